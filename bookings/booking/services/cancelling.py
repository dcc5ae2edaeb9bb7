"""Cancelling places or bookings, and substituting attendees, within the event's cut-offs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import hooks
from bookings.booking.inputs import AttendeeInput, validate_attendee
from bookings.booking.models import (
    Attendee,
    AttendeeStatus,
    Booking,
    BookingStatus,
    ReplacedPlace,
)
from bookings.booking.rules import (
    check_can_cancel,
    check_can_substitute,
)
from bookings.booking.services.common import (
    locked_booking,
)
from bookings.booking.services.holding import write_person
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db
from bookings.notifications.outbox import queue_email, withdraw_unsent


@transactional
def cancel_booking(
    *,
    reference: str,
    actor: User,
    now: datetime,
    attendee_ids: list[int] | None = None,
    reason: str = "",
) -> Booking:
    """Cancel some places or the whole booking before the cut-off (admins may go past it).

    Freed places go to the waiting list first. Raises NotFound, CutoffPassed, ValidationError.
    """
    booking = locked_booking(reference, actor)
    if booking.is_cancelled or booking.status == BookingStatus.EXPIRED.value:
        if attendee_ids:
            raise Conflict("This booking is already cancelled.", code="not_active")
        return booking  # cancelling twice changes nothing
    check_can_cancel(booking, now, is_admin=actor.is_admin)
    active = {a.id: a for a in booking.active_attendees}
    if attendee_ids:
        unknown = [i for i in attendee_ids if i not in active]
        if unknown:
            raise ValidationError("Choose places that belong to this booking.", field="attendee_ids")
        chosen = [active[i] for i in dict.fromkeys(attendee_ids)]
    else:
        chosen = list(active.values())
    was_held = booking.is_held
    for attendee in chosen:
        attendee.status = AttendeeStatus.CANCELLED.value
        attendee.cancelled_at = now
    if len(chosen) == len(active):
        booking.status = BookingStatus.CANCELLED.value
        booking.cancelled_at = now
    booking.total_pence = sum(a.price_pence for a in booking.active_attendees)
    audit.record(
        "booking.cancelled" if booking.is_cancelled else "booking.places_cancelled",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        attendee_ids=[a.id for a in chosen],
        reason=reason,
    )
    if not was_held:
        for handler in hooks.cancel_handlers.values():
            handler(booking, chosen, actor.id, now)
        queue_cancellation_emails(booking, chosen, now)
    capacity.offer_freed_places(booking.event_id, now)
    return booking


def queue_cancellation_emails(booking: Booking, cancelled: list[Attendee], now: datetime) -> None:
    """The booker's `booking_cancelled`, and each cancelled attendee's own `place_cancelled` (rule 5).

    An attendee with their own address was sent an invite when the booking was
    confirmed; theirs is withdrawn with the booking's METHOD:CANCEL (the UIDs
    of that invite), unless they still have another place on the booking. A
    confirmation to them not yet on its way is taken back instead of sent late.
    """
    event = booking.event
    booker_email = booking.booker.email.lower() if booking.booker is not None else None
    still_going = {a.email.lower() for a in booking.active_attendees if a.email}
    told: set[str] = set()
    for attendee in cancelled:
        address = (attendee.email or "").lower()
        if not address or address in (booker_email, *still_going, *told):
            continue
        told.add(address)
        _tell_of_lost_place(booking, "place_cancelled", "has been cancelled", attendee.name, attendee.email, now)
    if booking.booker is not None:
        if booking.is_cancelled:
            withdraw_unsent(booking_reference=booking.reference, to=booking.booker.email, kinds=("booking_confirmed",))
        queue_email(
            "booking_cancelled",
            to=booking.booker.email,
            subject=f"Cancelled: {event.title} ({booking.reference})",
            now=now,
            attachments=hooks.attachments_for(booking, "cancelled"),
            booking_reference=booking.reference,
            event_id=event.id,
            booking=booking,
            event=event,
            cancelled=cancelled,
        )


@transactional
def substitute_attendee(
    *,
    reference: str,
    attendee_id: int,
    name: str,
    email: str,
    actor: User,
    now: datetime,
    details: AttendeeInput | None = None,
) -> Attendee:
    """Give a place to a colleague before the substitution cut-off; the person replaced is told.

    `details`: the new person's organisation, job title, needs and answers to the event's questions
    (the web form asks for them all, and required questions must be answered); without it only the
    name and email change, the organisation stays and the rest is cleared. Once the attendee has been
    checked in only an admin may substitute them (the check-in is cleared: the new person has not
    arrived). Raises NotFound, ValidationError, CutoffPassed, Conflict (`checked_in`)."""
    booking = locked_booking(reference, actor)
    check_can_substitute(booking, now, is_admin=actor.is_admin)
    attendee = next((a for a in booking.active_attendees if a.id == attendee_id), None)
    if attendee is None:
        raise NotFound("There is no such attendee on this booking.")
    if attendee.checked_in_at is not None and not actor.is_admin:
        # They have come to the event: the place has been used, and their attendance must stay on record.
        raise Conflict(
            f"{attendee.name} has already been checked in at the event, so their place cannot be given to"
            " someone else. Contact the organiser.",
            code="checked_in",
        )
    if details is None:
        person = AttendeeInput(name=name, email=email, organisation=attendee.organisation)
    else:
        person = replace(details, name=name, email=email)
    errors = validate_attendee(person, booking.event.questions if details is not None else [], "substitute")
    if errors:
        raise ValidationError("Check the new attendee's details.", errors=errors)
    previous = {
        "name": attendee.name,
        "email": attendee.email,
        "checked_in_at": attendee.checked_in_at.isoformat() if attendee.checked_in_at else None,
    }
    # Requirements, answers and attendance belonged to the person who is no longer coming.
    write_person(attendee, person)
    attendee.checked_in_at = None
    audit.record(
        "attendee.substituted",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        attendee_id=attendee.id,
        previous=previous,
        new={"name": person.name, "email": person.email},
    )
    if previous["email"] and previous["email"] != person.email:
        _release_place(booking, attendee, previous["name"], previous["email"], now)
    queue_email(
        "attendee_confirmed",
        to=attendee.email,
        subject=f"Your place at {booking.event.title}",
        now=now,
        attachments=hooks.attachments_for(booking, "confirmed"),
        booking_reference=booking.reference,
        event_id=booking.event_id,
        booking=booking,
        event=booking.event,
        attendee=attendee,
    )
    return attendee


def _release_place(booking: Booking, attendee: Attendee, name: str, email: str, now: datetime) -> None:
    """Rule 5 for the person replaced: their feed keeps the place as cancelled, and their invite is withdrawn.

    Not for the booker, whose feed and emails are about the booking they still hold. The email's
    METHOD:CANCEL is for the booking's UIDs, those of the invite they were sent; it is not sent while
    they still have another place on the booking, which that invite stands for."""
    booker = booking.booker
    if booker is not None and booker.email == email:
        return
    user_id = db.session.scalar(select(User.id).where(User.email == email))
    if user_id is not None:
        db.session.add(ReplacedPlace(attendee_id=attendee.id, user_id=user_id, replaced_at=now))
    if any(a.email == email for a in booking.active_attendees):
        return
    _tell_of_lost_place(booking, "attendee_substituted", "has been given to someone else", name, email, now)


def _tell_of_lost_place(booking: Booking, kind: str, what: str, name: str, email: str, now: datetime) -> None:
    """Email someone their place is gone, with the booking's METHOD:CANCEL (the UIDs of the invite they were
    sent). A confirmation to them not yet sent is taken back: rendered now, it would greet the wrong person
    or arrive after this news."""
    withdraw_unsent(booking_reference=booking.reference, to=email, kinds=("attendee_confirmed",))
    queue_email(
        kind,
        to=email,
        subject=f"Your place at {booking.event.title} {what}",
        now=now,
        attachments=hooks.attachments_for(booking, "cancelled"),
        booking_reference=booking.reference,
        event_id=booking.event_id,
        booking=booking,
        event=booking.event,
        name=name,
        what=what,
    )
