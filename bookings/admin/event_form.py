"""The event form: browser form fields <-> the raw mapping `bookings.catalogue.inputs` validates.

This module only converts (text to whole numbers, pounds to pence, checkboxes
to booleans, rows to lists) and maps the catalogue's error paths
(`sessions[0].starts_at`) back to form field ids (`sessions-0-starts_at`).
Every rule about what an event may be stays in the catalogue's parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bookings.catalogue.models import DEFAULT_TIMEZONE, Event, EventKind

TEXT_FIELDS = ("title", "kind", "summary", "description", "timezone", "venue_name", "venue_address", "online_url")
WHOLE_NUMBERS = ("capacity", "max_places_per_booking", "cancellation_cutoff_hours", "substitution_cutoff_hours")
OPTIONAL_WHOLE_NUMBERS = ("hold_minutes", "offer_expiry_hours")
CHECKBOXES = ("is_online", "allow_invoice", "is_waitlist_open", "prices_include_vat")
DATETIMES = ("booking_opens_at", "booking_closes_at")
BLANK_SESSION_ROWS = 2
BLANK_RATE_ROWS = 1
MAX_ROWS = 100
MONEY = re.compile(r"^\d{1,7}(\.\d{1,2})?$")
WHOLE = re.compile(r"^\d{1,9}$")
RATE_FIELDS = {"name": "name", "price_pence": "price", "vat_rate_bp": "vat", "cap": "cap", "currency": "name"}


def local_input(value: datetime | None, zone: str) -> str:
    """A UTC datetime as a `datetime-local` input value in the event's timezone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _pounds(pence: int) -> str:
    return f"{pence // 100}.{pence % 100:02d}"


def _percent(basis_points: int) -> str:
    return str(Decimal(basis_points) / 100).rstrip("0").rstrip(".") if basis_points % 100 else str(basis_points // 100)


def values_for(event: Event | None) -> dict[str, str]:
    """The form's values for an existing event, or the defaults for a new one."""
    if event is None:
        values = {
            "kind": EventKind.COURSE.value,
            "timezone": DEFAULT_TIMEZONE,
            "max_places_per_booking": "10",
            "cancellation_cutoff_hours": "48",
            "substitution_cutoff_hours": "2",
            "allow_invoice": "y",
            "is_waitlist_open": "y",
            "prices_include_vat": "y",
            "session_rows": str(BLANK_SESSION_ROWS),
            "rate_rows": str(BLANK_RATE_ROWS),
            "rates-0-vat": "20",
        }
        return values
    values = {name: str(getattr(event, name) or "") for name in (*TEXT_FIELDS, *WHOLE_NUMBERS)}
    values["slug"] = event.slug
    values.update(
        {name: "" if getattr(event, name) is None else str(getattr(event, name)) for name in OPTIONAL_WHOLE_NUMBERS}
    )
    values.update({name: "y" for name in CHECKBOXES if getattr(event, name)})
    values.update({name: local_input(getattr(event, name), event.timezone) for name in DATETIMES})
    live = [s for s in event.sessions if not s.is_cancelled]
    for index, session in enumerate(live):
        values[f"sessions-{index}-id"] = str(session.id)
        values[f"sessions-{index}-title"] = session.title
        values[f"sessions-{index}-starts_at"] = local_input(session.starts_at, event.timezone)
        values[f"sessions-{index}-ends_at"] = local_input(session.ends_at, event.timezone)
    for index, rate in enumerate(event.ticket_types):
        values[f"rates-{index}-id"] = str(rate.id)
        values[f"rates-{index}-name"] = rate.name
        values[f"rates-{index}-price"] = _pounds(rate.price_pence)
        values[f"rates-{index}-vat"] = _percent(rate.vat_rate_bp)
        values[f"rates-{index}-cap"] = "" if rate.cap is None else str(rate.cap)
    values["session_rows"] = str(len(live) + BLANK_SESSION_ROWS)
    values["rate_rows"] = str(len(event.ticket_types) + BLANK_RATE_ROWS)
    return values


@dataclass
class Parsed:
    """The raw mapping for the catalogue parser, problems found while converting, and how to name errors."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    session_rows: list[int] = field(default_factory=list)  # list index -> form row
    rate_rows: list[int] = field(default_factory=list)

    def field_errors(self, service_errors: Mapping[str, str]) -> dict[str, str]:
        """Service error paths as form field ids (first message per field), plus the conversion errors."""
        found = dict(self.errors)
        for path, message in service_errors.items():
            found.setdefault(self._field_id(path), message)
        return found

    def _field_id(self, path: str) -> str:
        match = re.match(r"^(sessions|ticket_types)(?:\[(\d+)\])?(?:\.(\w+))?$", path)
        if not match:
            return path
        list_name, index, name = match.group(1), match.group(2), match.group(3)
        rows = self.session_rows if list_name == "sessions" else self.rate_rows
        row = rows[int(index)] if index is not None and int(index) < len(rows) else 0
        if list_name == "sessions":
            return f"sessions-{row}-{name if name in ('title', 'starts_at', 'ends_at') else 'starts_at'}"
        return f"rates-{row}-{RATE_FIELDS.get(name or '', 'name')}"


def _row_count(form: Mapping[str, str], name: str) -> int:
    raw = form.get(name, "")
    return min(int(raw), MAX_ROWS) if raw.isdigit() else 0


def parse_form(form: Mapping[str, str], *, event: Event | None = None) -> Parsed:
    """Convert the submitted form. The result's `data` goes to `parse_event_input` or (with `event`) `update_event`."""
    editing = event is not None
    parsed = Parsed()
    data, errors = parsed.data, parsed.errors
    for name in TEXT_FIELDS:
        data[name] = form.get(name, "")
    slug = form.get("slug", "").strip()
    if slug or editing:
        data["slug"] = slug or None
    for name in (*WHOLE_NUMBERS, *OPTIONAL_WHOLE_NUMBERS):
        raw = form.get(name, "").strip()
        if not raw and name in OPTIONAL_WHOLE_NUMBERS:
            data[name] = None
        elif WHOLE.match(raw):
            data[name] = int(raw)
        else:
            errors[name] = "Enter a whole number, like 40"
    for name in CHECKBOXES:
        data[name] = bool(form.get(name))
    for name in DATETIMES:
        data[name] = form.get(name, "").strip() or None
    data["sessions"] = _sessions(form, parsed)
    data["ticket_types"] = _rates(form, parsed, event)
    return parsed


def _sessions(form: Mapping[str, str], parsed: Parsed) -> list[dict[str, Any]]:
    sessions = []
    for row in range(_row_count(form, "session_rows")):
        prefix = f"sessions-{row}-"
        starts, ends = form.get(prefix + "starts_at", "").strip(), form.get(prefix + "ends_at", "").strip()
        title = form.get(prefix + "title", "").strip()
        if not (starts or ends or title):
            continue  # a blank row; blanking an existing session's row takes it off the event
        item: dict[str, Any] = {"title": title}
        if starts:
            item["starts_at"] = starts
        if ends:
            item["ends_at"] = ends
        session_id = form.get(prefix + "id", "")
        if session_id.isdigit():
            item["id"] = int(session_id)
        sessions.append(item)
        parsed.session_rows.append(row)
    if not sessions:
        parsed.errors["sessions-0-starts_at"] = "Enter the start and end of at least one session"
    return sessions


def _kept_rate_fields(event: Event | None) -> dict[int, dict[str, Any]]:
    """What the form does not show of each existing rate, so that saving the form keeps it."""
    if event is None:
        return {}
    return {
        rate.id: {
            "currency": rate.currency,
            "description": rate.description,
            "sale_starts_at": rate.sale_starts_at.isoformat() if rate.sale_starts_at else None,
            "sale_ends_at": rate.sale_ends_at.isoformat() if rate.sale_ends_at else None,
        }
        for rate in event.ticket_types
    }


def _rates(form: Mapping[str, str], parsed: Parsed, event: Event | None) -> list[dict[str, Any]]:
    kept = _kept_rate_fields(event)
    rates = []
    for row in range(_row_count(form, "rate_rows")):
        prefix = f"rates-{row}-"
        name, price = form.get(prefix + "name", "").strip(), form.get(prefix + "price", "").strip()
        vat, cap = form.get(prefix + "vat", "").strip(), form.get(prefix + "cap", "").strip()
        if not (name or price or cap):
            continue
        item: dict[str, Any] = {"name": name}
        if MONEY.match(price):
            item["price_pence"] = int(Decimal(price) * 100)
        else:
            parsed.errors[prefix + "price"] = "Enter the price in pounds, like 120 or 95.50 (0 for free)"
        if vat:
            if MONEY.match(vat) and Decimal(vat) <= 100:
                item["vat_rate_bp"] = int(Decimal(vat) * 100)
            elif MONEY.match(vat):
                parsed.errors[prefix + "vat"] = "Enter a VAT rate of 100% or less, like 20"
            else:
                parsed.errors[prefix + "vat"] = "Enter the VAT rate as a percentage, like 20"
        if cap:
            if WHOLE.match(cap):
                item["cap"] = int(cap)
            else:
                parsed.errors[prefix + "cap"] = "Enter the cap as a whole number, or leave it empty"
        else:
            item["cap"] = None
        rate_id = form.get(prefix + "id", "")
        if rate_id.isdigit():
            item["id"] = int(rate_id)
            item.update(kept.get(int(rate_id), {}))
        rates.append(item)
        parsed.rate_rows.append(row)
    if not rates:
        parsed.errors["rates-0-name"] = "Enter at least one rate (a name and a price)"
    return rates
