"""What organisers do in the console that no other area already offers.

Rules owned here:

- A booking made on someone's behalf takes its places through the capacity
  module like any other (rule 1). Going over capacity needs an explicit
  override with a reason; the booking is flagged `is_over_capacity` and an
  audit row names the admin and the reason (rule 7).
- Moving and duplicating an event go through the catalogue services, so
  calendar sequences, the change hooks (everyone told) and the audit trail
  follow the catalogue's rules.
- Check-in and its undo, resending a confirmation and retrying a failed
  email each write an audit row in the same transaction.

Every service here refuses a non-admin actor with `Forbidden`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import Role, User
from bookings.accounts.passwords import hash_password
from bookings.booking.inputs import AttendeeInput, normalise_email, validate_attendee
from bookings.booking.models import Attendee, Booking, PaymentMethod
from bookings.booking.rules import BookingClosed
from bookings.booking.services import (
    apply_attendee_details,
    create_hold,
    get_booking_for,
    load_event,
    mark_confirmed,
    send_confirmation_emails,
)
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.inputs import EventInput, SessionInput, TicketTypeInput
from bookings.catalogue.models import Event, EventStatus, Question, QuestionKind
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, Forbidden, NotFound, ValidationError
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus

MAX_TITLE = 200
REASON_MAX = 500


def _check_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only an admin can do this.")


# --- events ---------------------------------------------------------------------------------------------------------


def _event_with_children(event_id: int) -> Event:
    event = db.session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .options(selectinload(Event.sessions), selectinload(Event.ticket_types), selectinload(Event.questions))
    ).one_or_none()
    if event is None:
        raise NotFound("There is no event with that id.")
    return event


@transactional
def duplicate_event(event_id: int, actor: User, now: datetime) -> Event:
    """A draft copy of an event: same sessions, rates, questions and policies; no bookings. Raises NotFound."""
    _check_admin(actor)
    source = _event_with_children(event_id)
    live_sessions = [s for s in source.sessions if not s.is_cancelled] or source.sessions
    data = EventInput(
        title=f"Copy of {source.title}"[:MAX_TITLE],
        capacity=source.capacity,
        sessions=tuple(SessionInput(starts_at=s.starts_at, ends_at=s.ends_at, title=s.title) for s in live_sessions),
        ticket_types=tuple(
            TicketTypeInput(
                name=t.name,
                price_pence=t.price_pence,
                currency=t.currency,
                vat_rate_bp=t.vat_rate_bp,
                cap=t.cap,
                sale_starts_at=t.sale_starts_at,
                sale_ends_at=t.sale_ends_at,
                description=t.description,
            )
            for t in source.ticket_types
        ),
        kind=source.kind,
        status=EventStatus.DRAFT.value,
        timezone=source.timezone,
        summary=source.summary,
        description=source.description,
        is_online=source.is_online,
        venue_name=source.venue_name,
        venue_address=source.venue_address,
        online_url=source.online_url,
        booking_opens_at=source.booking_opens_at,
        booking_closes_at=source.booking_closes_at,
        max_places_per_booking=source.max_places_per_booking,
        cancellation_cutoff_hours=source.cancellation_cutoff_hours,
        substitution_cutoff_hours=source.substitution_cutoff_hours,
        hold_minutes=source.hold_minutes,
        offer_expiry_hours=source.offer_expiry_hours,
        allow_invoice=source.allow_invoice,
        prices_include_vat=source.prices_include_vat,
        is_waitlist_open=source.is_waitlist_open,
    )
    copy = catalogue_services.create_event(data, actor.id, now)
    for question in source.questions:
        copy.questions.append(
            Question(
                label=question.label,
                kind=question.kind,
                choices=list(question.choices or []),
                is_required=question.is_required,
                position=question.position,
            )
        )
    db.session.flush()
    audit.record(
        "event.duplicated", "event", copy.id, actor_id=actor.id, event_id=copy.id, at=now, source_event_id=source.id
    )
    return copy


@transactional
def move_event(event_id: int, actor: User, now: datetime, *, new_start: datetime) -> Event:
    """Shift every live session (and the booking close time) so the first session starts at `new_start`.

    Goes through `update_event`, so sessions keep their UIDs, sequences rise and,
    for a published event, the change hooks tell everyone. Raises NotFound,
    ValidationError (same start), Conflict (`event_cancelled`).
    """
    _check_admin(actor)
    event = _event_with_children(event_id)
    if event.is_cancelled:
        raise Conflict("A cancelled event cannot be moved.", code="event_cancelled")
    live = [s for s in event.sessions if not s.is_cancelled]
    delta: timedelta = new_start - min(s.starts_at for s in live)
    if not delta:
        raise ValidationError("The event already starts then.", errors={"new_start": "Choose a different start"})
    changes: dict[str, object] = {
        "sessions": [
            {
                "id": s.id,
                "title": s.title,
                "starts_at": (s.starts_at + delta).isoformat(),
                "ends_at": (s.ends_at + delta).isoformat(),
            }
            for s in live
        ]
    }
    if event.booking_closes_at is not None:
        changes["booking_closes_at"] = (event.booking_closes_at + delta).isoformat()
    moved = catalogue_services.update_event(event.id, changes, actor.id, now)
    audit.record(
        "event.moved",
        "event",
        event.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        shift_seconds=delta // timedelta(seconds=1),
    )
    return moved


@transactional
def add_question(
    event_id: int, actor: User, now: datetime, *, label: str, kind: str, choices: list[str], is_required: bool
) -> Question:
    """Ask every new attendee one more question. Raises NotFound, ValidationError."""
    _check_admin(actor)
    event = _event_with_children(event_id)
    label = (label or "").strip()
    choices = [c.strip() for c in choices if c.strip()]
    errors: dict[str, str] = {}
    if not label:
        errors["label"] = "Enter the question"
    elif len(label) > 300:
        errors["label"] = "The question must be 300 characters or fewer"
    if kind not in {k.value for k in QuestionKind}:
        errors["kind"] = "Choose the kind of answer"
    elif kind == QuestionKind.CHOICE.value and len(choices) < 2:
        errors["choices"] = "Give at least two options, one on each line"
    if errors:
        raise ValidationError("Check the question.", errors=errors)
    question = Question(
        label=label,
        kind=kind,
        choices=choices if kind == QuestionKind.CHOICE.value else [],
        is_required=is_required,
        position=max((q.position for q in event.questions), default=-1) + 1,
    )
    event.questions.append(question)
    db.session.flush()
    audit.record(
        "event.question_added", "event", event.id, actor_id=actor.id, event_id=event.id, at=now, question=label
    )
    return question


@transactional
def remove_question(question_id: int, actor: User, now: datetime) -> None:
    """Stop asking a question nobody has answered yet. Raises NotFound, Conflict (`question_answered`)."""
    _check_admin(actor)
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("There is no such question.")
    answers = db.session.scalars(select(Attendee.answers).where(Attendee.event_id == question.event_id))
    if any(str(question.id) in (a or {}) for a in answers):
        raise Conflict("People have answered this question, so it cannot be removed.", code="question_answered")
    audit.record(
        "event.question_removed",
        "event",
        question.event_id,
        actor_id=actor.id,
        event_id=question.event_id,
        at=now,
        question=question.label,
    )
    db.session.delete(question)


# --- bookings -------------------------------------------------------------------------------------------------------


def _find_or_create_user(email: str, name: str, organisation: str, actor: User, now: datetime) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user
    # No password anyone knows: the person sets one through "forgotten password" if they ever sign in.
    user = User(
        email=email,
        name=name,
        organisation=organisation,
        role=Role.ATTENDEE.value,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created_by_admin", "user", user.id, actor_id=actor.id, at=now)
    return user


@transactional
def book_on_behalf(
    event_id: int,
    admin: User,
    booker_email: str,
    people: list[AttendeeInput],
    method: PaymentMethod,
    override: bool,
    reason: str,
    now: datetime,
    *,
    ticket_type_id: int | None = None,
    booker_name: str = "",
) -> Booking:
    """Book confirmed places for someone (found or created by email), free or by invoice.

    Capacity holds unless `override` is set with a reason: then the places are
    taken even past capacity, the booking is flagged and the override audited.
    Raises ValidationError (nothing written), BookingClosed, SoldOut, Forbidden.
    """
    _check_admin(admin)
    event = load_event(event_id)
    if event.is_cancelled:
        raise BookingClosed("This event has been cancelled.")
    errors: dict[str, str] = {}
    try:
        booker_email = normalise_email(booker_email)
    except ValueError as error:
        errors["booker_email"] = str(error)
    if not people:
        errors["attendees-0-name"] = "Give at least one attendee"
    for index, person in enumerate(people):
        errors.update(validate_attendee(person, event.questions, f"attendees-{index}"))
    reason = (reason or "").strip()
    if override and not reason:
        errors["reason"] = "Give the reason for going over capacity"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX} characters or fewer"
    rates = {t.id: t for t in event.ticket_types}
    if ticket_type_id is None and len(rates) == 1:
        ticket_type_id = next(iter(rates))
    ticket_type = rates.get(ticket_type_id) if ticket_type_id is not None else None
    if ticket_type is None:
        errors["ticket_type_id"] = "Choose a rate for this event"
    elif ticket_type.price_pence == 0 and method is not PaymentMethod.FREE:
        errors["method"] = "This rate is free: choose no payment"
    elif ticket_type.price_pence > 0 and method is not PaymentMethod.INVOICE:
        errors["method"] = "This rate is not free: choose invoice"
    if errors:
        raise ValidationError("Check the booking details.", errors=errors)
    assert ticket_type is not None
    places = len(people)
    first = people[0]
    booker = _find_or_create_user(
        booker_email, (booker_name or "").strip()[:200] or first.name, first.organisation, admin, now
    )
    taken = capacity.take_places(event.id, {ticket_type.id: places}, now, allow_over_capacity=override)
    is_over = places > taken.places_left_for(ticket_type.id)
    booking = create_hold(event, ticket_type, places, booker.id, now, card=False)
    apply_attendee_details(booking, people)
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=admin.id,
        event_id=event.id,
        at=now,
        places=places,
        ticket_type_id=ticket_type.id,
        via="admin",
        on_behalf_of=booker.id,
    )
    if is_over:
        booking.is_over_capacity = True
        audit.record(
            "booking.over_capacity",
            "booking",
            booking.reference,
            actor_id=admin.id,
            event_id=event.id,
            at=now,
            admin_email=admin.email,
            reason=reason,
            places=places,
            places_left_before=taken.places_left_for(ticket_type.id),
            capacity=event.capacity,
        )
    mark_confirmed(booking, method=method, actor_id=admin.id, now=now)
    return booking


@transactional
def resend_confirmation(reference: str, admin: User, now: datetime) -> Booking:
    """Write the confirmation emails again (with their calendar files). Raises NotFound, Conflict."""
    _check_admin(admin)
    booking = get_booking_for(reference, admin)
    if not booking.is_confirmed:
        raise Conflict("Only a confirmed booking has a confirmation to resend.", code="not_confirmed")
    send_confirmation_emails(booking, now)
    audit.record(
        "booking.confirmation_resent",
        "booking",
        booking.reference,
        actor_id=admin.id,
        event_id=booking.event_id,
        at=now,
    )
    return booking


# --- check-in -------------------------------------------------------------------------------------------------------


def _attendee_for_check_in(attendee_id: int, event_id: int | None) -> Attendee:
    attendee = db.session.scalars(
        select(Attendee).where(Attendee.id == attendee_id).options(selectinload(Attendee.booking))
    ).one_or_none()
    if attendee is None or (event_id is not None and attendee.event_id != event_id):
        raise NotFound("There is no such attendee.")
    if not attendee.is_active or not attendee.booking.is_confirmed:
        raise Conflict("This place is not booked, so it cannot be checked in.", code="not_booked")
    return attendee


@transactional
def check_in(attendee_id: int, admin: User, now: datetime, *, event_id: int | None = None) -> Attendee:
    """Mark an attendee as attended (twice changes nothing). Raises NotFound, Conflict (`not_booked`)."""
    _check_admin(admin)
    attendee = _attendee_for_check_in(attendee_id, event_id)
    if attendee.checked_in_at is None:
        attendee.checked_in_at = now
        audit.record(
            "attendee.checked_in",
            "booking",
            attendee.booking.reference,
            actor_id=admin.id,
            event_id=attendee.event_id,
            at=now,
            attendee_id=attendee.id,
        )
    return attendee


@transactional
def undo_check_in(attendee_id: int, admin: User, now: datetime, *, event_id: int | None = None) -> Attendee:
    """Take back a check-in made by mistake. Raises NotFound, Conflict."""
    _check_admin(admin)
    attendee = _attendee_for_check_in(attendee_id, event_id)
    if attendee.checked_in_at is not None:
        attendee.checked_in_at = None
        audit.record(
            "attendee.check_in_undone",
            "booking",
            attendee.booking.reference,
            actor_id=admin.id,
            event_id=attendee.event_id,
            at=now,
            attendee_id=attendee.id,
        )
    return attendee


# --- emails ---------------------------------------------------------------------------------------------------------


@transactional
def retry_outbox_message(message_id: int, admin: User, now: datetime) -> OutboxMessage:
    """Put a failed email back in the queue for the sender to try again now. Raises NotFound, Conflict."""
    _check_admin(admin)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no such email.")
    if message.status != OutboxStatus.FAILED.value:
        raise Conflict("Only an email that failed can be retried.", code="not_failed")
    message.status = OutboxStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = now
    audit.record(
        "outbox.retried",
        "outbox_message",
        message.id,
        actor_id=admin.id,
        event_id=message.event_id,
        at=now,
        to=message.to_address,
        kind=message.kind,
    )
    return message
