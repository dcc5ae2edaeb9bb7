"""Queueing an email in the current transaction: rendered now (`queue_email`), or dropped while a caller's
own email covers it (`suppressed`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import delete, func

from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A message that could not be rendered says so in last_error (its text body is still its recipe).
RENDER_ERROR_PREFIX = "Not rendered: "


def after_failed_attempt(attempts: int, now: datetime, *, waiting_status: str) -> dict[str, Any]:
    """The row's new values after its `attempts`-th failed attempt (to send, or to render).

    `failed` once MAIL_MAX_ATTEMPTS are spent; otherwise `waiting_status`,
    due again after an exponential back-off.
    """
    if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        return {"status": OutboxStatus.FAILED.value}
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    return {"status": waiting_status, "next_attempt_at": now + timedelta(seconds=delay)}


def requeue(message: OutboxMessage, now: datetime) -> None:
    """Due again now with a fresh count of attempts: to be rendered first if it never was."""
    unrendered = message.status == OutboxStatus.UNRENDERED.value or message.last_error.startswith(RENDER_ERROR_PREFIX)
    message.status = OutboxStatus.UNRENDERED.value if unrendered else OutboxStatus.PENDING.value
    message.attempts = 0
    message.next_attempt_at = now


def withdraw_unsent(*, booking_reference: str, to: str, kinds: tuple[str, ...]) -> int:
    """Take back, in the current transaction, messages about a booking not yet on their way to `to`.

    For news that overtakes them: a confirmation still waiting to be rendered or
    sent to someone whose place has just been cancelled or given away would reach
    them after, or instead of, the truth (rendered as the booking is now, it could
    greet the new person at the old address). One already being sent is left to go.
    Returns how many were taken back.
    """
    result = db.session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.booking_reference == booking_reference,
            func.lower(OutboxMessage.to_address) == to.lower(),
            OutboxMessage.kind.in_(kinds),
            OutboxMessage.status.in_([OutboxStatus.UNRENDERED.value, OutboxStatus.PENDING.value]),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# Kinds of email that `queue_email` drops in the current call stack (see `suppressed`).
_suppressed_kinds: ContextVar[frozenset[str]] = ContextVar("suppressed_email_kinds", default=frozenset())


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: str


def queue_email(
    template: str,
    *,
    to: str,
    subject: str,
    now: datetime,
    attachments: list[Attachment] | None = None,
    booking_reference: str | None = None,
    event_id: int | None = None,
    message_key: str | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Render `templates/emails/<template>.txt/.html` and add it to the current transaction.

    `message_key` (unique in the outbox) makes a message that must go out once
    at most, such as a reminder: a second message with the same key fails the
    transaction with an IntegrityError. Returns None when the kind is
    `suppressed` here.
    """
    if template in _suppressed_kinds.get():
        return None
    text_body, html_body = _render_bodies(template, subject, context)
    return add_message(
        template,
        to=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attachments=[a.__dict__ for a in attachments or []],
        status=OutboxStatus.PENDING.value,
        now=now,
        booking_reference=booking_reference,
        event_id=event_id,
        message_key=message_key,
    )


def add_message(
    kind: str,
    *,
    to: str,
    subject: str,
    text_body: str,
    html_body: str,
    attachments: list[dict[str, str]],
    status: str,
    now: datetime,
    booking_reference: str | None,
    event_id: int | None,
    message_key: str | None = None,
) -> OutboxMessage:
    """Add one outbox row, due now, to the current transaction (rendered or not: `queue_email`, `queue_deferred`)."""
    message = OutboxMessage(
        message_key=message_key or uuid.uuid4().hex,
        kind=kind,
        to_address=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attachments=attachments,
        status=status,
        next_attempt_at=now,
        created_at=now,
        booking_reference=booking_reference,
        event_id=event_id,
    )
    db.session.add(message)
    return message


def _render_bodies(template: str, subject: str, context: dict[str, Any]) -> tuple[str, str]:
    context = {"subject": subject, **context}
    # The plain-text twin of the HTML layout's footer, the same under every email.
    text_body = render_template(f"emails/{template}.txt", **context).rstrip() + "\n\n"
    text_body += render_template("emails/_footer.txt", **context)
    try:
        html_body = render_template(f"emails/{template}.html", **context)
    except Exception as error:  # no HTML version is allowed; a broken one is not
        if type(error).__name__ != "TemplateNotFound":
            raise
        html_body = ""
    return text_body, html_body


@contextmanager
def suppressed(*kinds: str) -> Iterator[None]:
    """Drop emails of these kinds queued inside the block, because the caller sends one that covers them.

    Cancelling an event cancels its bookings through the booking service, which
    would also write each booker a "booking cancelled" email; the event's own
    "event cancelled" email says the same, so the booker gets one, not two.
    """
    token = _suppressed_kinds.set(_suppressed_kinds.get() | frozenset(kinds))
    try:
        yield
    finally:
        _suppressed_kinds.reset(token)
