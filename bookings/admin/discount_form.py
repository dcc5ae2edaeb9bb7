"""The discount code form: browser form fields <-> the arguments of `payments.services.create_discount_code`.

As with the event form, this module only converts (pounds to pence, text to
whole numbers, UK wall-clock times to UTC) and names errors by form field id.
Every rule about what a code may be (its format, one of percentage or amount,
1 to 100 per cent, the window, the number of uses, an existing event) stays
in the service, and its errors are shown against the fields here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bookings.admin.event_form import MONEY, WHOLE
from bookings.catalogue.inputs import FieldError, parse_datetime
from bookings.catalogue.models import DEFAULT_TIMEZONE
from bookings.payments.services import discount_code_errors

ZONE = ZoneInfo(DEFAULT_TIMEZONE)  # codes may be for any event, so their windows are in UK time
FIELDS = ("code", "percent", "amount", "event_id", "valid_from", "valid_until", "max_uses")
SERVICE_FIELDS = {"amount_pence": "amount"}  # the service's argument names that differ from the form's field ids


@dataclass
class ParsedDiscount:
    """Keyword arguments for `create_discount_code`, and problems found while converting."""

    arguments: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def field_errors(self, service_errors: Mapping[str, str]) -> dict[str, str]:
        """The conversion errors and the service's (first message per field), by form field id, in page order."""
        found = dict(self.errors)
        for name, message in service_errors.items():
            found.setdefault(SERVICE_FIELDS.get(name, name), message)
        return {name: found[name] for name in FIELDS if name in found}

    def problems(self) -> dict[str, str]:
        """Everything wrong that can be seen without the database: the conversion's and the service's rules."""
        rules = discount_code_errors(**{k: v for k, v in self.arguments.items() if k != "event_id"})
        if {"percent", "amount"} & set(self.errors):  # a box could not be read: "one of the two" cannot be judged
            rules = {k: v for k, v in rules.items() if k not in ("percent", "amount_pence")}
        return self.field_errors(rules)


def values_from(form: Mapping[str, str]) -> dict[str, str]:
    """What was submitted, to show again on the form."""
    return {name: form.get(name, "") for name in FIELDS}


def parse_discount_form(form: Mapping[str, str], event_ids: set[int]) -> ParsedDiscount:
    """Convert the submitted form; `event_ids` are the events the form offered."""
    parsed = ParsedDiscount()
    data, errors = parsed.arguments, parsed.errors
    data["code"] = form.get("code", "")
    # One of the two, not both, is the service's rule: it answers for an empty or a doubly filled pair.
    percent = form.get("percent", "").strip().rstrip("%").strip()
    if WHOLE.match(percent):
        data["percent"] = int(percent)
    elif percent:
        errors["percent"] = "Enter the percentage off as a whole number from 1 to 100, like 10"
    amount = form.get("amount", "").strip().lstrip("£").strip()
    if MONEY.match(amount):
        data["amount_pence"] = int(Decimal(amount) * 100)
    elif amount:
        errors["amount"] = "Enter the amount off in pounds, like 25 or 12.50"
    event = form.get("event_id", "").strip()
    if event:
        if event.isdigit() and int(event) in event_ids:
            data["event_id"] = int(event)
        else:
            errors["event_id"] = "Choose an event from the list, or any event"
    for name in ("valid_from", "valid_until"):
        raw = form.get(name, "").strip()
        if raw:
            try:
                data[name] = parse_datetime(raw, ZONE)
            except FieldError:
                errors[name] = "Enter a date and time, like 2027-03-27 09:30"
    uses = form.get("max_uses", "").strip()
    if uses:
        if WHOLE.match(uses):
            data["max_uses"] = int(uses)
        else:
            errors["max_uses"] = "Enter the most times the code can be used as a whole number, like 50"
    return parsed
