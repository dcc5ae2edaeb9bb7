"""Writing the demo data: idempotent by slug and email, dates relative to now, bookings as the booking area does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select

from bookings.accounts.models import User
from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentMethod, PaymentStatus
from bookings.catalogue.models import (
    Event,
    EventSession,
    Question,
    TicketType,
)
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.money import vat_of_net
from bookings.core.tokens import new_reference
from bookings.demo.catalogue import demo_catalogue
from bookings.demo.people import ATTENDEE_EMAIL, DEMO_BOOKERS, DEMO_LOGINS, _attendee_names, _ensure_account
from bookings.demo.specs import LONDON, UTC, DemoEvent, Fill
from bookings.extensions import db


@transactional
def _load(now: datetime, reset: bool) -> list[str]:
    lines: list[str] = []
    if reset:
        lines.append(f"Deleted {_delete_events()} events and everything booked on them.")
    accounts = {account.email: _ensure_account(account, now) for account in (*DEMO_LOGINS, *DEMO_BOOKERS)}
    created_accounts = [email for email, (_, created) in accounts.items() if created]
    users = {email: user for email, (user, _) in accounts.items()}
    existing = set(db.session.scalars(select(Event.slug)))
    created_events = []
    for spec in demo_catalogue():
        if spec.slug in existing:
            continue
        _create_event(spec, users, now)
        created_events.append(spec.slug)
    if not created_events and not created_accounts:
        lines.append("Demo data is already loaded; nothing added.")
    else:
        lines.append(f"Added {len(created_events)} demo events and {len(created_accounts)} demo accounts.")
    return lines


def _local(now: datetime, days_ahead: int, at: time) -> datetime:
    """`at` o'clock in London on the day `days_ahead` days after today (London), as UTC."""
    zone = ZoneInfo(LONDON)
    day: date = now.astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _create_event(spec: DemoEvent, users: dict[str, User], now: datetime) -> Event:
    event = Event(
        slug=spec.slug,
        title=spec.title,
        kind=spec.kind,
        status=spec.status,
        summary=spec.summary,
        description=spec.description,
        timezone=LONDON,
        is_online=spec.is_online,
        venue_name=spec.venue_name,
        venue_address=spec.venue_address,
        online_url=spec.online_url,
        capacity=spec.capacity,
        max_places_per_booking=spec.max_places_per_booking,
        prices_include_vat=spec.prices_include_vat,
        booking_opens_at=_local(now, spec.booking_opens_days, time(9, 0)) if spec.booking_opens_days else None,
        created_at=now,
        updated_at=now,
    )
    for offset, start, end, title in spec.sessions:
        event.sessions.append(
            EventSession(
                title=title,
                starts_at=_local(now, spec.days_ahead + offset, start),
                ends_at=_local(now, spec.days_ahead + offset, end),
                uid=f"{uuid.uuid4()}@bookings",
            )
        )
    event.starts_at = min(s.starts_at for s in event.sessions)
    event.ends_at = max(s.ends_at for s in event.sessions)
    for position, rate in enumerate(spec.rates):
        window = rate.sale_days
        event.ticket_types.append(
            TicketType(
                name=rate.name,
                description=rate.description,
                price_pence=rate.price_pence,
                vat_rate_bp=rate.vat_rate_bp,
                cap=rate.cap,
                sale_starts_at=_local(now, window[0], time(0, 0)) if window else None,
                sale_ends_at=_local(now, window[1], time(23, 59)) if window else None,
                position=position,
            )
        )
    for position, ask in enumerate(spec.questions):
        event.questions.append(
            Question(
                label=ask.label, kind=ask.kind, choices=ask.choices, is_required=ask.is_required, position=position
            )
        )
    db.session.add(event)
    db.session.flush()
    audit.record("event.created", "event", event.id, actor_id=None, event_id=event.id, at=now, source="demo data")
    names = _attendee_names()
    for fill in spec.fills:
        _add_confirmed_booking(event, users[fill.booker], fill, names, now)
    return event


def _add_confirmed_booking(
    event: Event, booker: User, fill: Fill, names: Iterator[tuple[str, str]], now: datetime
) -> Booking:
    # The first rate on general sale (not an early bird or capped rate) is what most delegates book.
    rate = next((t for t in event.ticket_types if t.cap is None and t.sale_starts_at is None), event.ticket_types[0])
    gross = (
        rate.price_pence
        if event.prices_include_vat
        else rate.price_pence + vat_of_net(rate.price_pence, rate.vat_rate_bp)
    )
    paid = fill.payment_status != PaymentStatus.NOT_REQUIRED.value
    booking = Booking(
        reference=new_reference(),
        event_id=event.id,
        booker_id=booker.id,
        status=BookingStatus.CONFIRMED.value,
        payment_status=fill.payment_status,
        payment_method=PaymentMethod.INVOICE.value if paid else PaymentMethod.FREE.value,
        purchase_order=fill.purchase_order,
        billing_contact=booker.name if paid else "",
        billing_email=booker.email if paid else "",
        billing_address=f"Finance, {booker.organisation}" if paid else "",
        total_pence=gross * fill.places,
        is_details_complete=True,
        created_at=now,
        confirmed_at=now,
    )
    for n in range(fill.places):
        name, job_title = (booker.name, "Manager") if n == 0 and booker.email == ATTENDEE_EMAIL else next(names)
        email_name = name.lower().replace("dr ", "").replace("'", "").replace(" ", ".")
        booking.attendees.append(
            Attendee(
                event_id=event.id,
                ticket_type_id=rate.id,
                name=name,
                email=booker.email if name == booker.name else f"{email_name}@{booker.email.split('@')[1]}",
                organisation=booker.organisation,
                job_title=job_title,
                price_pence=rate.price_pence,
                created_at=now,
            )
        )
    db.session.add(booking)
    db.session.flush()
    audit.record("booking.confirmed", "booking", booking.reference, actor_id=None, event_id=event.id, at=now)
    return booking


def _delete_events() -> int:
    """Delete every event and every row that refers to one (bookings, attendees, waiting lists, payments...)."""
    event_table: Table = Event.__table__  # type: ignore[assignment]
    doomed = {event_table}
    changed = True
    while changed:
        changed = False
        for table in db.metadata.sorted_tables:
            if table not in doomed and any(fk.column.table in doomed for fk in table.foreign_keys):
                doomed.add(table)
                changed = True
    count = len(db.session.scalars(select(Event.id)).all())
    for table in reversed(db.metadata.sorted_tables):
        if table in doomed:
            db.session.execute(table.delete())
    return count
