"""What the console shows, computed before any template runs, each in a fixed number of queries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.booking.models import Attendee, AttendeeStatus, Booking, BookingStatus, PaymentStatus
from bookings.catalogue.models import Event, EventStatus
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.payments.models import DiscountCode, Payment, PaymentProvider, PaymentState, Refund, RefundState
from bookings.payments.services import DiscountStatus, discount_status, payments_needing_attention
from bookings.waitlist.places import live_offer_places
from bookings.waitlist.services import waitlist_lengths

T = TypeVar("T")
PER_PAGE = 25
DASHBOARD_EVENTS = 20
FAILED_EMAILS_SHOWN = 50


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link, GOV.UK style: first, last, current and its neighbours; None is a gap."""
        wanted = {1, self.pages, self.page - 1, self.page, self.page + 1}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        window: list[int | None] = []
        for number in numbers:
            if window and number - (window[-1] or 0) > 1:
                window.append(None)
            window.append(number)
        return window


def paginate(query: Select, page: int, per_page: int = PER_PAGE) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    items = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 7 else 1


def like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- occupancy ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupancy:
    capacity: int
    confirmed: int = 0
    held: int = 0
    offered: int = 0
    waiting: int = 0

    @property
    def taken(self) -> int:
        return self.confirmed + self.held + self.offered

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.taken)


def occupancy_for(events: Sequence[Event], now: datetime) -> dict[int, Occupancy]:
    """Confirmed, live held and live offered places and the waiting list of each event, in three queries."""
    ids = [e.id for e in events]
    if not ids:
        return {}
    counts: dict[int, dict[str, int]] = {i: {"confirmed": 0, "held": 0, "offered": 0} for i in ids}
    live = or_(
        Booking.status == BookingStatus.CONFIRMED.value,
        and_(Booking.status == BookingStatus.HELD.value, Booking.hold_expires_at > now),
    )
    for event_id, status, places in db.session.execute(
        select(Attendee.event_id, Booking.status, func.count())
        .join(Booking, Booking.id == Attendee.booking_id)
        .where(Attendee.event_id.in_(ids), Attendee.status == AttendeeStatus.ACTIVE.value, live)
        .group_by(Attendee.event_id, Booking.status)
    ):
        counts[event_id]["confirmed" if status == BookingStatus.CONFIRMED.value else "held"] += int(places)
    offers = live_offer_places(ids, now).subquery()
    for event_id, places in db.session.execute(
        select(offers.c.event_id, func.sum(offers.c.places)).group_by(offers.c.event_id)
    ):
        counts[event_id]["offered"] = int(places or 0)
    waiting = waitlist_lengths(ids, now)
    return {e.id: Occupancy(capacity=e.capacity, waiting=waiting.get(e.id, 0), **counts[e.id]) for e in events}


# --- dashboard ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    events: list[Event]
    occupancy: dict[int, Occupancy]
    income: dict[str, int]  # currency -> pence
    invoices_outstanding: int
    invoices_outstanding_pence: dict[str, int]
    failed_emails: list[OutboxMessage]
    failed_email_count: int
    payments_needing_attention: list[Payment] = field(default_factory=list)


def _add(totals: dict[str, int], currency: str, pence: int) -> None:
    totals[currency] = totals.get(currency, 0) + int(pence or 0)


def income_totals() -> dict[str, int]:
    """Paid card payments minus refunds that went through, plus paid invoices (two queries)."""
    totals: dict[str, int] = {}
    for currency, pence in db.session.execute(
        select(Payment.currency, func.sum(Payment.amount_pence))
        .where(
            Payment.status == PaymentState.SUCCEEDED.value,
            Payment.provider.in_([PaymentProvider.STRIPE.value, PaymentProvider.INVOICE.value]),
        )
        .group_by(Payment.currency)
    ):
        _add(totals, currency, pence)
    for currency, pence in db.session.execute(
        select(Payment.currency, func.sum(Refund.amount_pence))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status == RefundState.SUCCEEDED.value)
        .group_by(Payment.currency)
    ):
        _add(totals, currency, -int(pence or 0))
    return totals


def dashboard(now: datetime) -> Dashboard:
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.status != EventStatus.CANCELLED.value, Event.ends_at >= now)
            .order_by(Event.starts_at, Event.id)
            .limit(DASHBOARD_EVENTS)
        )
    )
    outstanding: dict[str, int] = {}
    outstanding_count = 0
    for currency, count, pence in db.session.execute(
        select(Booking.currency, func.count(), func.sum(Booking.total_pence))
        .where(Booking.payment_status == PaymentStatus.INVOICED.value, Booking.status == BookingStatus.CONFIRMED.value)
        .group_by(Booking.currency)
    ):
        outstanding_count += int(count)
        _add(outstanding, currency, pence)
    failed = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED.value)
    return Dashboard(
        events=events,
        occupancy=occupancy_for(events, now),
        income=income_totals(),
        invoices_outstanding=outstanding_count,
        invoices_outstanding_pence=outstanding,
        failed_emails=list(db.session.scalars(failed.order_by(OutboxMessage.id.desc()).limit(FAILED_EMAILS_SHOWN))),
        failed_email_count=db.session.scalar(select(func.count()).select_from(failed.subquery())) or 0,
        payments_needing_attention=payments_needing_attention(),
    )


# --- lists ----------------------------------------------------------------------------------------------------------


def events_page(*, text: str, status: str, page: int) -> Page[Event]:
    query = select(Event).order_by(Event.starts_at.desc(), Event.id.desc())
    if text:
        query = query.where(or_(Event.title.ilike(like(text), escape="\\"), Event.slug.ilike(like(text), escape="\\")))
    if status in {s.value for s in EventStatus}:
        query = query.where(Event.status == status)
    return paginate(query, page)


def bookings_page(*, text: str, event_id: int | None, status: str, payment_status: str, page: int) -> Page[Booking]:
    query = (
        select(Booking)
        .options(selectinload(Booking.event), selectinload(Booking.booker), selectinload(Booking.attendees))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    if text:
        pattern = like(text)
        people = select(Attendee.booking_id).where(
            or_(Attendee.name.ilike(pattern, escape="\\"), Attendee.email.ilike(pattern, escape="\\"))
        )
        bookers = select(User.id).where(
            or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
        query = query.where(
            or_(
                Booking.reference.ilike(pattern, escape="\\"),
                Booking.purchase_order.ilike(pattern, escape="\\"),
                Booking.id.in_(people),
                Booking.booker_id.in_(bookers),
            )
        )
    if event_id is not None:
        query = query.where(Booking.event_id == event_id)
    if status in {s.value for s in BookingStatus}:
        query = query.where(Booking.status == status)
    if payment_status in {s.value for s in PaymentStatus}:
        query = query.where(Booking.payment_status == payment_status)
    return paginate(query, page)


@dataclass(frozen=True)
class DiscountCodeRow:
    discount: DiscountCode
    event_title: str  # "" when the code is for any event
    status: DiscountStatus


def _discount_rows(codes: Sequence[DiscountCode], now: datetime) -> list[DiscountCodeRow]:
    event_ids = {c.event_id for c in codes if c.event_id is not None}
    titles = dict(db.session.execute(select(Event.id, Event.title).where(Event.id.in_(event_ids))).all())
    return [DiscountCodeRow(c, titles.get(c.event_id or 0, ""), discount_status(c, now)) for c in codes]


def discount_codes_page(*, now: datetime, page: int) -> Page[DiscountCodeRow]:
    """Codes newest first, each with its event's title and its status at `now` (three queries)."""
    codes = paginate(select(DiscountCode).order_by(DiscountCode.created_at.desc(), DiscountCode.id.desc()), page)
    return replace(codes, items=_discount_rows(codes.items, now))


def discount_code_row(discount_id: int, now: datetime) -> DiscountCodeRow | None:
    discount = db.session.get(DiscountCode, discount_id)
    return None if discount is None else _discount_rows([discount], now)[0]


def event_choices() -> list[tuple[int, str]]:
    return [(i, t) for i, t in db.session.execute(select(Event.id, Event.title).order_by(Event.starts_at.desc()))]


def booked_attendees(event_id: int, *, text: str = "") -> list[Attendee]:
    """Active attendees of confirmed bookings, by name (with their booking and rate loaded)."""
    query = (
        select(Attendee)
        .join(Booking, Booking.id == Attendee.booking_id)
        .where(
            Attendee.event_id == event_id,
            Attendee.status == AttendeeStatus.ACTIVE.value,
            Booking.status == BookingStatus.CONFIRMED.value,
        )
        .options(selectinload(Attendee.booking), selectinload(Attendee.ticket_type))
        .order_by(func.lower(Attendee.name), Attendee.id)
    )
    if text:
        pattern = like(text)
        query = query.where(
            or_(
                Attendee.name.ilike(pattern, escape="\\"),
                Attendee.email.ilike(pattern, escape="\\"),
                Attendee.organisation.ilike(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(query))


def audit_page(*, event_id: int | None, reference: str, user_text: str, page: int) -> Page[AuditRecord]:
    query = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    if event_id is not None:
        query = query.where(AuditRecord.event_id == event_id)
    if reference:
        query = query.where(AuditRecord.subject_type == "booking", AuditRecord.subject_id == reference.upper())
    if user_text:
        users = select(User.id).where(
            or_(User.email.ilike(like(user_text), escape="\\"), User.name.ilike(like(user_text), escape="\\"))
        )
        query = query.where(AuditRecord.actor_id.in_(users))
    return paginate(query, page)


def actor_names(records: Sequence[AuditRecord]) -> dict[int, str]:
    ids = {r.actor_id for r in records if r.actor_id is not None}
    if not ids:
        return {}
    return {
        i: f"{n} ({e})"
        for i, n, e in db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    }


def describe_details(details: dict[str, Any]) -> str:
    return "; ".join(
        f"{k.replace('_', ' ')}: {v}" for k, v in sorted((details or {}).items()) if v not in ("", None, [])
    )
