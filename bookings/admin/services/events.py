"""Console services for events: duplicate, move, custom questions (through the catalogue services)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.admin.services.common import check_admin
from bookings.booking.models import Attendee
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.inputs import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    EventInput,
    FieldError,
    SessionInput,
    TicketTypeInput,
    parse_datetime,
)
from bookings.catalogue.models import Event, EventStatus, Question, QuestionKind
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db

MAX_TITLE = 200


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
    check_admin(actor)
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


def _wall_clock(value: datetime, zone: ZoneInfo) -> datetime:
    """An instant as naive wall-clock time in `zone`."""
    return value.astimezone(zone).replace(tzinfo=None)


def _moved(value: datetime, shift: timedelta, zone: ZoneInfo, what: str) -> datetime:
    """`value` moved by `shift` on the wall clock of `zone`, as UTC. Raises ValidationError (`new_start`).

    The new local time is read as the app reads every naive local time
    (`parse_datetime`, fold 0): in the hour repeated when the clocks go back it
    is the first of the two, still summer time. A time skipped when the clocks
    go forward does not exist; it is refused rather than quietly read an hour off.
    """
    local = _wall_clock(value, zone) + shift
    try:
        moved = parse_datetime(local, zone)
    except FieldError:
        message = f"{what} outside the years {EARLIEST_YEAR} to {LATEST_YEAR}. Choose a different start"
        raise ValidationError(message, errors={"new_start": message})
    if _wall_clock(moved, zone) != local:
        message = (
            f"{what} at {local:%H:%M} on {local:%A} {local.day} {local:%B %Y}, a time that does not exist in "
            f"{zone.key} because the clocks go forward then. Choose a different start, or edit the sessions"
        )
        raise ValidationError(message, errors={"new_start": message})
    return moved


@transactional
def move_event(
    event_id: int, actor: User, now: datetime, *, new_start: datetime | None = None, delta: timedelta | None = None
) -> Event:
    """Move every live session (and the booking close time) so the first starts at `new_start`, or by `delta`.

    The move is made on the wall clock of the event's timezone, not in UTC: each
    time keeps its local time of day and its local-date offset from the first
    session (and so its length in local time), whichever side of a clock change
    it lands on. `new_start` is an instant, or a naive wall-clock time in the
    event's timezone; `delta` is wall-clock time. How a moved local time that is
    repeated or skipped by a clock change is read: `_moved`.

    Goes through `update_event`, so sessions keep their UIDs, sequences rise and,
    for a published event, the change hooks tell everyone. Raises NotFound,
    ValidationError (same start, a moved time the clocks skip), Conflict (`event_cancelled`).
    """
    check_admin(actor)
    event = _event_with_children(event_id)
    if event.is_cancelled:
        raise Conflict("A cancelled event cannot be moved.", code="event_cancelled")
    live = [s for s in event.sessions if not s.is_cancelled]
    if (new_start is None) == (delta is None):
        raise ValueError("Give either new_start or delta.")
    zone = event.zone
    first_start = min(s.starts_at for s in live)
    if new_start is not None:
        target = new_start if new_start.tzinfo is None else _wall_clock(new_start, zone)
        delta = target - _wall_clock(first_start, zone)
    assert delta is not None
    if not delta:
        raise ValidationError("The event already starts then.", errors={"new_start": "Choose a different start"})
    new_times = []
    for number, s in enumerate(live, start=1):
        name = s.title or f"Session {number}"
        new_times.append(
            (
                _moved(s.starts_at, delta, zone, f"{name} would start"),
                _moved(s.ends_at, delta, zone, f"{name} would end"),
            )
        )
    changes: dict[str, object] = {
        "sessions": [
            {"id": s.id, "title": s.title, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
            for s, (starts_at, ends_at) in zip(live, new_times, strict=True)
        ]
    }
    if event.booking_closes_at is not None:
        closes_at = _moved(event.booking_closes_at, delta, zone, "Booking would close")
        changes["booking_closes_at"] = closes_at.isoformat()
    moved = catalogue_services.update_event(event.id, changes, actor.id, now)
    audit.record(
        "event.moved",
        "event",
        event.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        shift_seconds=(min(starts_at for starts_at, _ in new_times) - first_start) // timedelta(seconds=1),
    )
    return moved


@transactional
def add_question(
    event_id: int, actor: User, now: datetime, *, label: str, kind: str, choices: list[str], is_required: bool
) -> Question:
    """Ask every new attendee one more question. Raises NotFound, ValidationError.

    Under the event's lock, and moving its `updated_at`: a booking that read
    the questions before this commits runs again against the new ones
    (`booking.services.one_step`).
    """
    check_admin(actor)
    capacity.lock_event(event_id)
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
    elif kind == QuestionKind.CHOICE.value and len({c.casefold() for c in choices}) < len(choices):
        errors["choices"] = "Give each option once: two of them are the same"
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
    event.updated_at = now
    db.session.flush()
    audit.record(
        "event.question_added", "event", event.id, actor_id=actor.id, event_id=event.id, at=now, question=label
    )
    return question


@transactional
def remove_question(question_id: int, actor: User, now: datetime) -> None:
    """Stop asking a question nobody has answered yet. Raises NotFound, Conflict (`question_answered`).

    Under the event's lock, and moving its `updated_at`, as `add_question`.
    """
    check_admin(actor)
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("There is no such question.")
    event = capacity.lock_event(question.event_id)  # the answers are read after it: none can be committed meanwhile
    # Read again under the lock: another admin may have removed it while this one waited.
    question = db.session.get(Question, question_id, populate_existing=True)
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
    event.updated_at = now
    db.session.delete(question)
