"""Console services for events: duplicate, move, custom questions (through the catalogue services)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.admin.services.common import check_admin
from bookings.booking.models import Attendee
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.inputs import EventInput, SessionInput, TicketTypeInput
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


@transactional
def move_event(
    event_id: int, actor: User, now: datetime, *, new_start: datetime | None = None, delta: timedelta | None = None
) -> Event:
    """Shift every live session (and the booking close time) by `delta`, or so the first starts at `new_start`.

    Goes through `update_event`, so sessions keep their UIDs, sequences rise and,
    for a published event, the change hooks tell everyone. Raises NotFound,
    ValidationError (same start), Conflict (`event_cancelled`).
    """
    check_admin(actor)
    event = _event_with_children(event_id)
    if event.is_cancelled:
        raise Conflict("A cancelled event cannot be moved.", code="event_cancelled")
    live = [s for s in event.sessions if not s.is_cancelled]
    if (new_start is None) == (delta is None):
        raise ValueError("Give either new_start or delta.")
    if new_start is not None:
        delta = new_start - min(s.starts_at for s in live)
    assert delta is not None
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
