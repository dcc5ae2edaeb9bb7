"""What admins see of mail delivery, and the one thing they can do about it: try a message again.

Rule 7 promises that no email is lost; when SMTP keeps refusing one, the
outbox gives up after MAIL_MAX_ATTEMPTS and marks it `failed`. These services
let the organiser console list such messages (and those still being retried
after an error) and put one back in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from bookings.accounts.models import User
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, Forbidden, NotFound
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox import requeue


@dataclass(frozen=True)
class DeliveryProblem:
    """One message that has failed at least once: plain values for the admin pages."""

    id: int
    kind: str
    to_address: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime
    booking_reference: str | None
    event_id: int | None

    @property
    def has_given_up(self) -> bool:
        return self.status == OutboxStatus.FAILED.value


def failed_messages(limit: int = 50) -> list[DeliveryProblem]:
    """Messages that gave up (`failed`) or are waiting to retry after an error (to send or to render), newest first."""
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status == OutboxStatus.FAILED.value,
                OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.UNRENDERED.value])
                & (OutboxMessage.last_error != ""),
            )
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        DeliveryProblem(
            id=m.id,
            kind=m.kind,
            to_address=m.to_address,
            subject=m.subject,
            status=m.status,
            attempts=m.attempts,
            last_error=m.last_error,
            created_at=m.created_at,
            next_attempt_at=m.next_attempt_at,
            booking_reference=m.booking_reference,
            event_id=m.event_id,
        )
        for m in rows
    ]


def outbox_counts() -> dict[str, int]:
    """How many messages are in each status (for a dashboard); every status is present."""
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status.value: counts.get(status.value, 0) for status in OutboxStatus}


@transactional
def retry_message(message_id: int, actor: User, now: datetime) -> None:
    """Put a failed (or waiting) message back in the queue, due now, with a fresh count of attempts.

    Raises Forbidden (not an admin), NotFound, or Conflict `already_sent` /
    `being_sent` (a sender holds it; retrying then could send it twice).
    """
    if not actor.is_admin:
        raise Forbidden("Only an organiser can retry an email.")
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no such email.")
    if message.status == OutboxStatus.SENT.value:
        raise Conflict("This email has already been sent.", code="already_sent")
    if message.status == OutboxStatus.SENDING.value:
        raise Conflict("This email is being sent now.", code="being_sent")
    previous = message.status
    requeue(message, now)
    audit.record(
        "email.retried",
        "outbox_message",
        message.id,
        actor_id=actor.id,
        event_id=message.event_id,
        at=now,
        status_from=previous,
        to=message.to_address,
        kind=message.kind,
    )
