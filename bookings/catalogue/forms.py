"""The listing's filter form (a GET form that works without JavaScript) and the event page's "Book" form."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextInput
from wtforms import Form, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from bookings.catalogue.queries import (
    FORMAT_IN_PERSON,
    FORMAT_ONLINE,
    KINDS,
    SITE_ZONE,
    CatalogueFilters,
    RateView,
)

MONTHS_OFFERED = 12
MAX_SEARCH_LENGTH = 100
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")

KIND_LABELS = {"conference": "Conferences", "course": "Courses", "webinar": "Webinars", "workshop": "Workshops"}
FORMAT_CHOICES = [
    SelectChoice("", "Online or in person"),
    SelectChoice(FORMAT_ONLINE, "Online"),
    SelectChoice(FORMAT_IN_PERSON, "In person"),
]


def parse_month(value: str) -> date | None:
    """'2027-03' -> 1 March 2027; None when it is not a real month in that form."""
    match = MONTH_PATTERN.match(value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 1:
        return None
    return date(year, month, 1)


def month_choices(now: datetime, count: int = MONTHS_OFFERED) -> list[SelectChoice]:
    local = now.astimezone(SITE_ZONE)
    year, month = local.year, local.month
    choices = []
    for _ in range(count):
        choices.append(SelectChoice(f"{year:04d}-{month:02d}", f"{date(year, month, 1):%B %Y}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return choices


class CatalogueFilterForm(Form):
    """Filters read from the query string. No CSRF: it only reads."""

    q = StringField(
        "Search",
        description="For example, a topic, a title or a town",
        validators=[Length(max=MAX_SEARCH_LENGTH, message=f"Search must be {MAX_SEARCH_LENGTH} characters or fewer")],
        widget=GovTextInput(),
        # PostgreSQL refuses NUL in text, so it never reaches a query.
        filters=[lambda value: (value or "").replace("\x00", "").strip()],
    )
    kind = SelectField("Type of event", validate_choice=False, widget=GovSelect())
    month = SelectField("Month", validate_choice=False, widget=GovSelect())
    format = SelectField("Format", choices=FORMAT_CHOICES, validate_choice=False, widget=GovSelect())

    def __init__(self, formdata, *, now: datetime, **kwargs):
        super().__init__(formdata, **kwargs)
        self.kind.choices = [
            SelectChoice("", "All types"),
            *(SelectChoice(kind, KIND_LABELS.get(kind, kind.title())) for kind in KINDS),
        ]
        months = month_choices(now)
        # A well-formed month outside the offered range (a bookmark, a far date) stays selected.
        chosen = parse_month(self.month.data or "")
        if chosen and self.month.data not in {choice.value for choice in months}:
            months.append(SelectChoice(self.month.data, f"{chosen:%B %Y}"))
        self.month.choices = [SelectChoice("", "Any month"), *months]

    def validate_kind(self, field: SelectField) -> None:
        if field.data and field.data not in KINDS:
            raise ValidationError("Choose a type of event from the list")

    def validate_month(self, field: SelectField) -> None:
        if field.data and parse_month(field.data) is None:
            raise ValidationError("Choose a month from the list")

    def validate_format(self, field: SelectField) -> None:
        if field.data and field.data not in (FORMAT_ONLINE, FORMAT_IN_PERSON):
            raise ValidationError("Choose online or in person")

    def filters(self) -> CatalogueFilters:
        """The validated filters (call after `validate()` succeeded)."""
        return CatalogueFilters(
            kind=self.kind.data or None,
            month=parse_month(self.month.data or ""),
            format=self.format.data or None,
            text=self.q.data or "",
        )

    def query_args(self) -> dict[str, str]:
        """The filters in force, to carry over into pagination links."""
        return {name: value for name in ("q", "kind", "month", "format") if (value := self[name].data)}


class BookPlacesForm(FlaskForm):
    """Choose a rate and a number of places. Posted to the booking area, which checks both again."""

    ticket_type_id = RadioField(
        "Choose a rate",
        coerce=int,
        validators=[InputRequired(message="Choose a rate")],
        widget=GovRadioInput(),
    )
    places = IntegerField(
        "Number of places",
        validators=[DataRequired(message="Enter the number of places")],
        widget=GovTextInput(),
    )

    @classmethod
    def for_rates(cls, rates: list[RateView], max_places: int, **kwargs) -> BookPlacesForm:
        form = cls(**kwargs)
        form.ticket_type_id.choices = [
            SelectChoice(str(rate.ticket_type.id), f"{rate.ticket_type.name}: {rate.price_label}") for rate in rates
        ]
        form.places.validators = [
            DataRequired(message="Enter the number of places"),
            NumberRange(min=1, max=max_places, message=f"Enter a number of places from 1 to {max_places}"),
        ]
        form.places.description = f"You can book up to {max_places} {'place' if max_places == 1 else 'places'}."
        form.ticket_type_id.description = "The table of prices says who each rate is for."
        if form.places.data is None:
            form.places.data = 1
        if len(rates) == 1 and form.ticket_type_id.data is None:
            form.ticket_type_id.data = rates[0].ticket_type.id
        return form
