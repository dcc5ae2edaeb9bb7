"""Console services for emails: put a failed email back in the queue."""

from __future__ import annotations

from datetime import datetime

from bookings.accounts.models import User
from bookings.admin.services.common import check_admin
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, NotFound
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox import requeue


@transactional
def retry_outbox_message(message_id: int, admin: User, now: datetime) -> OutboxMessage:
    """Put a failed email back in the queue for the sender to try again now. Raises NotFound, Conflict."""
    check_admin(admin)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("There is no such email.")
    if message.status != OutboxStatus.FAILED.value:
        raise Conflict("Only an email that failed can be retried.", code="not_failed")
    requeue(message, now)
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
