"""Personal data kept only as long as it is needed, and given back to the person it is about.

Rules owned here:
- `anonymise_old_bookings`: attendees' personal data (names, emails, organisations,
  job titles, dietary and access needs, answers) is removed a configurable number
  of months (`ANONYMISE_AFTER_MONTHS`) after an event ends. Places, statuses and
  money stay, so counts, occupancy and accounts still add up. Billing details on a
  booking with an issued invoice, receipt or credit note are kept: VAT records
  must be kept for six years (a legal obligation, UK GDPR Art. 6(1)(c)).
- `download_my_data`: everything held about a signed-in person, as plain JSON values.
- `close_account`: after the password is confirmed, the account is closed, its
  sessions, API tokens and calendar feeds stop working, its waiting-list entries
  end and its past bookings are anonymised. Upcoming places must be cancelled
  first (cancelling is what starts a refund), so no paid place is silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import ApiToken, User
from bookings.accounts.passwords import verify_password
from bookings.booking.models import Attendee, Booking, BookingStatus
from bookings.calendar.models import CalendarFeedToken
from bookings.catalogue.models import Event, EventStatus
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.payments.models import Document
from bookings.waitlist.models import IN_LINE, WaitlistEntry, WaitlistStatus
from bookings.waitlist.services import run_offers

ANONYMISED_NAME = "Anonymised attendee"
CLOSED_ACCOUNT_NAME = "Closed account"
CLOSED_PASSWORD_HASH = "!closed"  # noqa: S105  not an Argon2 hash: no password verifies against it


@dataclass(frozen=True)
class AnonymiseReport:
    events: int
    attendees: int
    bookings: int
    messages: int


def anonymise_cutoff(now: datetime, months: int) -> datetime:
    """Events that ended before this moment have their attendees anonymised."""
    if months < 0:
        raise ValidationError("The number of months cannot be negative.", field="months")
    return now - relativedelta(months=months)


def _has_documents(booking_id: int) -> bool:
    return db.session.scalar(select(Document.id).where(Document.booking_id == booking_id).limit(1)) is not None


def _anonymise_attendee(attendee: Attendee) -> bool:
    """Blank one attendee's personal data; False when there was nothing left to remove."""
    if attendee.name == ANONYMISED_NAME and not (
        attendee.email or attendee.organisation or attendee.job_title or attendee.dietary_needs or attendee.access_needs
    ):
        return False
    attendee.name = ANONYMISED_NAME
    attendee.email = ""
    attendee.organisation = ""
    attendee.job_title = ""
    attendee.dietary_needs = ""
    attendee.access_needs = ""
    attendee.answers = {}
    return True


def _anonymise_booking(booking: Booking) -> tuple[int, bool]:
    """Blank a booking's attendees and (unless an invoice must be kept) its billing details."""
    changed = sum(_anonymise_attendee(attendee) for attendee in booking.attendees)
    billing = bool(booking.billing_contact or booking.billing_email or booking.billing_address)
    cleared = billing and not _has_documents(booking.id)
    if cleared:
        booking.billing_contact = ""
        booking.billing_email = ""
        booking.billing_address = ""
    return changed, bool(changed) or cleared


def _forget_messages(references: list[str]) -> int:
    """Delivered or abandoned emails about these bookings lose their address and text (counts stay)."""
    if not references:
        return 0
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_reference.in_(references),
            OutboxMessage.status.in_([OutboxStatus.SENT.value, OutboxStatus.FAILED.value]),
            OutboxMessage.to_address != "",
        )
        .values(to_address="", text_body="", html_body="", attachments=[])
    )
    return result.rowcount or 0


@transactional
def anonymise_old_bookings(*, now: datetime, months: int) -> AnonymiseReport:
    """Remove attendees' personal data from every event that ended more than `months` ago.

    Idempotent: a second run changes nothing. Raises ValidationError for negative months.
    """
    cutoff = anonymise_cutoff(now, months)
    event_ids = list(db.session.scalars(select(Event.id).where(Event.ends_at.is_not(None), Event.ends_at < cutoff)))
    attendees = bookings = 0
    references: list[str] = []
    touched_events: set[int] = set()
    for chunk_start in range(0, len(event_ids), 200):
        chunk = event_ids[chunk_start : chunk_start + 200]
        rows = db.session.scalars(
            select(Booking).where(Booking.event_id.in_(chunk)).options(selectinload(Booking.attendees))
        ).all()
        for booking in rows:
            changed, touched = _anonymise_booking(booking)
            attendees += changed
            if touched:
                bookings += 1
                touched_events.add(booking.event_id)
            references.append(booking.reference)
    messages = _forget_messages(references)
    for event_id in sorted(touched_events):
        audit.record("event.attendees_anonymised", "event", event_id, actor_id=None, event_id=event_id, at=now)
    return AnonymiseReport(events=len(touched_events), attendees=attendees, bookings=bookings, messages=messages)


# ---------------------------------------------------------------- a person's own data


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _attendee_data(attendee: Attendee) -> dict:
    return {
        "name": attendee.name,
        "email": attendee.email,
        "organisation": attendee.organisation,
        "job_title": attendee.job_title,
        "dietary_needs": attendee.dietary_needs,
        "access_needs": attendee.access_needs,
        "answers": dict(attendee.answers or {}),
        "status": attendee.status,
        "ticket_type": attendee.ticket_type.name if attendee.ticket_type else None,
        "price_pence": attendee.price_pence,
        "checked_in_at": _iso(attendee.checked_in_at),
    }


def _booking_data(booking: Booking) -> dict:
    return {
        "reference": booking.reference,
        "event": {"title": booking.event.title, "slug": booking.event.slug, "starts_at": _iso(booking.event.starts_at)},
        "status": booking.status,
        "payment_status": booking.payment_status,
        "payment_method": booking.payment_method,
        "total_pence": booking.total_pence,
        "currency": booking.currency,
        "purchase_order": booking.purchase_order,
        "billing_contact": booking.billing_contact,
        "billing_email": booking.billing_email,
        "billing_address": booking.billing_address,
        "created_at": _iso(booking.created_at),
        "confirmed_at": _iso(booking.confirmed_at),
        "cancelled_at": _iso(booking.cancelled_at),
        "attendees": [_attendee_data(attendee) for attendee in booking.attendees],
    }


def download_my_data(user_id: int) -> dict:
    """Everything held about this person: account, bookings they made, places booked for their email,
    waiting-list entries, API tokens and calendar feeds (never their secrets). Raises NotFound."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active_account:
        raise NotFound("Account not found.")
    options = (
        selectinload(Booking.event),
        selectinload(Booking.attendees).selectinload(Attendee.ticket_type),
    )
    booked = db.session.scalars(
        select(Booking).where(Booking.booker_id == user.id).options(*options).order_by(Booking.id)
    ).all()
    mine = {booking.id for booking in booked}
    places_for_me = db.session.scalars(
        select(Attendee)
        .join(Booking, Booking.id == Attendee.booking_id)
        .where(Attendee.email == user.email, Booking.booker_id.is_distinct_from(user.id))
        .options(selectinload(Attendee.ticket_type), selectinload(Attendee.booking).selectinload(Booking.event))
        .order_by(Attendee.id)
    ).all()
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id)
        .options(selectinload(WaitlistEntry.event))
        .order_by(WaitlistEntry.id)
    ).all()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    feeds = db.session.scalars(
        select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id).order_by(CalendarFeedToken.id)
    ).all()
    return {
        "account": {
            "name": user.name,
            "email": user.email,
            "organisation": user.organisation,
            "sector": user.sector,
            "role": user.role,
            "created_at": _iso(user.created_at),
            "password_changed_at": _iso(user.password_changed_at),
        },
        "bookings": [_booking_data(booking) for booking in booked],
        "places_booked_for_you_by_others": [
            {
                "booking_reference": attendee.booking.reference,
                "event": attendee.booking.event.title,
                **_attendee_data(attendee),
            }
            for attendee in places_for_me
            if attendee.booking_id not in mine
        ],
        "waiting_lists": [
            {
                "event": entry.event.title,
                "places": entry.places,
                "status": entry.status,
                "joined_at": _iso(entry.joined_at),
                "has_email_consent": entry.has_email_consent,
            }
            for entry in entries
        ],
        "api_tokens": [
            {
                "name": token.name,
                "created_at": _iso(token.created_at),
                "last_used_at": _iso(token.last_used_at),
                "revoked_at": _iso(token.revoked_at),
            }
            for token in tokens
        ],
        "calendar_feeds": [
            {
                "created_at": _iso(feed.created_at),
                "last_used_at": _iso(feed.last_used_at),
                "revoked_at": _iso(feed.revoked_at),
            }
            for feed in feeds
        ],
    }


# ---------------------------------------------------------------- closing an account


def _upcoming_places(user_id: int, now: datetime) -> list[str]:
    """References of this person's bookings that still hold places: confirmed for an event to come, or a live hold."""
    confirmed = (Booking.status == BookingStatus.CONFIRMED.value) & (Event.ends_at >= now)
    held = (Booking.status == BookingStatus.HELD.value) & (Booking.hold_expires_at > now)
    return list(
        db.session.scalars(
            select(Booking.reference)
            .join(Event, Event.id == Booking.event_id)
            .where(Booking.booker_id == user_id, Event.status != EventStatus.CANCELLED.value, confirmed | held)
            .order_by(Booking.reference)
        )
    )


def _leave_waiting_lists(user_id: int, now: datetime) -> None:
    """End the person's places in line; a live offer's places pass to the next in line at once (rule 4)."""
    event_ids = sorted(
        set(
            db.session.scalars(
                select(WaitlistEntry.event_id).where(
                    WaitlistEntry.user_id == user_id, WaitlistEntry.status.in_(IN_LINE)
                )
            )
        )
    )
    for event_id in event_ids:
        capacity.lock_event(event_id)
        freed = False
        for entry in db.session.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.user_id == user_id,
                WaitlistEntry.event_id == event_id,
                WaitlistEntry.status.in_(IN_LINE),
            )
        ):
            freed = freed or entry.is_offer_live(now)
            entry.status = WaitlistStatus.WITHDRAWN.value
            entry.withdrawn_at = now
            audit.record("waitlist.withdrawn", "waitlist_entry", entry.id, actor_id=user_id, event_id=event_id, at=now)
        if freed:
            run_offers(event_id, now)


@transactional
def close_account(user_id: int, password: str, now: datetime) -> User:
    """Close this person's account and anonymise their bookings; every session, token and feed stops working.

    Raises NotFound, ValidationError (field "password") for a wrong password, or
    Conflict ("upcoming_bookings") while they still hold places (a live hold, or a place on an event to come).
    """
    user = db.session.get(User, user_id)
    if user is None or not user.is_active_account:
        raise NotFound("Account not found.")
    if not verify_password(user.password_hash, password or ""):
        raise ValidationError("Your password is incorrect", field="password")
    upcoming = _upcoming_places(user.id, now)
    if upcoming:
        raise Conflict(
            "Cancel your upcoming bookings before closing your account: " + ", ".join(upcoming) + ".",
            code="upcoming_bookings",
            field="password",
        )
    bookings = db.session.scalars(
        select(Booking).where(Booking.booker_id == user.id).options(selectinload(Booking.attendees))
    ).all()
    for booking in bookings:
        _anonymise_booking(booking)
    _forget_messages([booking.reference for booking in bookings])
    _leave_waiting_lists(user.id, now)
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.execute(
        update(CalendarFeedToken)
        .where(CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to_address == user.email, OutboxMessage.status != OutboxStatus.PENDING.value)
        .values(to_address="", text_body="", html_body="", attachments=[])
    )
    user.is_active_account = False
    user.session_epoch += 1  # every session and remember-me cookie ends
    user.name = CLOSED_ACCOUNT_NAME
    user.email = f"closed-{user.id}@closed.invalid"
    user.organisation = ""
    user.password_hash = CLOSED_PASSWORD_HASH
    audit.record("user.closed", "user", user.id, actor_id=user.id, at=now, bookings=len(bookings))
    return user
