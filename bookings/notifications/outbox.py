"""Rule 7: emails go to the outbox inside the transaction that causes them, then out over SMTP.

`queue_email` renders a message from `templates/emails/<name>.txt` and
`.html` and adds it to the current transaction. `deliver_pending` claims
messages one at a time (a short transaction that marks them `sending`), sends
them and marks them `sent`; a failure schedules a retry with exponential
back-off until MAIL_MAX_ATTEMPTS, then `failed` (visible to admins). A message
whose sender died while `sending` is reclaimed after a timeout; its
Message-ID stays the same, so a receiving server can drop the duplicate.

`queue_deferred` is the cheap twin of `queue_email` for changes made under a
lock (a booking's confirmation): the message row is written in the same
transaction, as `unrendered`, holding only how to render it (a registered
renderer's name and a few ids). `render_deferred_now` renders it right after
the commit, outside the lock; `deliver_pending` renders whatever a request
left unrendered (it died between commit and rendering) before sending. The
row is one row from the start, so rendering twice (request and delivery at
once) still sends one email: only the first conditional update takes effect.
See docs/notifications.md.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template
from sqlalchemy import bindparam, inspect, or_, select, update

from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
SENDING_TIMEOUT = timedelta(minutes=10)
SMTP_SERVICE_NOT_AVAILABLE = 421
# Status of a message queued by `queue_deferred` and not yet rendered: never claimed for sending.
UNRENDERED = OutboxStatus.UNRENDERED.value
RENDER_BATCH = 500
_DEFERRED_KEY = "outbox_deferred_messages"

log = logging.getLogger(__name__)

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
    message = OutboxMessage(
        message_key=message_key or uuid.uuid4().hex,
        kind=template,
        to_address=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        attachments=[a.__dict__ for a in attachments or []],
        status=OutboxStatus.PENDING.value,
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


@dataclass(frozen=True)
class Rendering:
    """What a renderer gives for one deferred message: the template's context and the attachments."""

    context: dict[str, Any]
    attachments: list[Attachment]


# (params, memo) -> Rendering. `memo` is shared by the messages rendered together (one booking's
# confirmation to the booker and to each attendee share one calendar file).
Renderer = Callable[[dict[str, Any], dict[str, Any]], Rendering]
_renderers: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    """Let `queue_deferred` messages name `renderer` (called once, at import of the area that writes them)."""
    _renderers[name] = renderer


def queue_deferred(
    template: str,
    *,
    renderer: str,
    params: dict[str, Any],
    to: str,
    subject: str,
    now: datetime,
    booking_reference: str | None = None,
    event_id: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the current transaction now and render it after the commit.

    The row is the message (same key, recipient, subject, links) with its
    bodies and attachments still to come: `renderer(params, memo)` gives the
    context for `templates/emails/<template>`. Until then its text body holds
    the recipe and its status is `unrendered`, which no sender claims.
    Returns None when the kind is `suppressed` here.
    """
    if template in _suppressed_kinds.get():
        return None
    if renderer not in _renderers:
        raise LookupError(f"No email renderer is registered as {renderer!r}")
    recipe = {"renderer": renderer, "params": params}
    message = OutboxMessage(
        message_key=uuid.uuid4().hex,
        kind=template,
        to_address=to,
        subject=subject,
        text_body=json.dumps(recipe),
        html_body="",
        attachments=[],
        status=UNRENDERED,
        next_attempt_at=now,
        created_at=now,
        booking_reference=booking_reference,
        event_id=event_id,
    )
    db.session.add(message)
    db.session.info.setdefault(_DEFERRED_KEY, []).append((message, _Unrendered(0, template, subject, recipe)))
    return message


def render_deferred_now() -> int:
    """Render the messages this session queued with `queue_deferred`; call after their transaction committed.

    Never raises for a message that cannot be rendered: the commit stands and
    `deliver_pending` tries again. What the session loaded to render them (the
    booking) stays loaded for the caller. Returns how many were rendered.
    """
    queued = db.session.info.pop(_DEFERRED_KEY, [])
    # A message whose transaction rolled back (a retry, an error) has no identity: nothing to render.
    rows = [
        replace(unrendered, id=state.identity[0])
        for message, unrendered in queued
        if (state := inspect(message)).has_identity
    ]
    try:
        return _render_rows(rows)
    except Exception:  # the change is committed whatever happens here; delivery renders what is left
        log.exception("Could not render deferred outbox messages")
        return 0


def render_deferred(*, limit: int = RENDER_BATCH) -> int:
    """Render the oldest unrendered messages (left by requests that died) and make them due. Returns how many."""
    found = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.subject, OutboxMessage.text_body)
        .where(OutboxMessage.status == UNRENDERED)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    rows = []
    for row in found:
        try:
            recipe = json.loads(row.text_body)
        except ValueError:
            log.exception("Outbox message %s has no readable recipe", row.id)
            continue
        rows.append(_Unrendered(row.id, row.kind, row.subject, recipe))
    return _render_rows(rows)


@dataclass(frozen=True)
class _Unrendered:
    id: int
    kind: str
    subject: str
    recipe: dict[str, Any]


def _render_rows(rows: list[_Unrendered]) -> int:
    memo: dict[str, Any] = {}
    rendered: list[dict[str, Any]] = []
    for row in rows:
        try:
            rendering = _renderers[row.recipe["renderer"]](row.recipe["params"], memo)
            text_body, html_body = _render_bodies(row.kind, row.subject, rendering.context)
        except Exception:  # one bad message must not hold back the others; delivery tries again
            log.exception("Could not render outbox message %s", row.id)
            continue
        rendered.append(
            {
                "message_id": row.id,
                "text": text_body,
                "html": html_body,
                "files": [a.__dict__ for a in rendering.attachments],
            }
        )
    if rendered:
        _store_rendered(rendered)
    return len(rendered)


def _store_rendered(rendered: list[dict[str, Any]]) -> None:
    """One short write transaction; what the session loaded to render stays loaded (for the caller's answer)."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        _update_rendered(rendered)
    finally:
        session.expire_on_commit = keep


@transactional
def _update_rendered(rendered: list[dict[str, Any]]) -> None:
    # Only an unrendered row changes: when a request and a delivery run render the same message,
    # the second update finds it pending (or sent) and leaves it alone. Table-level, so the
    # session's copies of these rows are neither consulted nor changed.
    table = OutboxMessage.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("message_id"), table.c.status == UNRENDERED)
        .values(
            text_body=bindparam("text"),
            html_body=bindparam("html"),
            attachments=bindparam("files", type_=table.c.attachments.type),
            status=OutboxStatus.PENDING.value,
        )
    )
    db.session.execute(statement, rendered)


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


@transactional
def _claim_next(now: datetime) -> OutboxMessage | None:
    """Mark the next due message `sending` and return it (one short transaction)."""
    due = or_(
        (OutboxMessage.status == OutboxStatus.PENDING.value) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.SENDING.value) & (OutboxMessage.claimed_at < now - SENDING_TIMEOUT),
    )
    query = select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(1)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    message = db.session.scalars(query).first()
    if message is None:
        return None
    message.status = OutboxStatus.SENDING.value
    message.claimed_at = now
    message.attempts += 1
    db.session.flush()
    db.session.expunge(message)
    return message


@transactional
def _mark_sent(message_id: int, now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.SENT.value, sent_at=now, last_error="")
    )


@transactional
def _mark_failed(message_id: int, attempts: int, error: str, now: datetime) -> None:
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    if attempts >= max_attempts:
        values: dict[str, Any] = {"status": OutboxStatus.FAILED.value}
    else:
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        values = {"status": OutboxStatus.PENDING.value, "next_attempt_at": now + timedelta(seconds=delay)}
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(last_error=error[:2000], **values)
    )


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    domain = config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip("> ") or "bookings.local"
    # Made from the message key alone (make_msgid adds the time and a random number), so a copy
    # sent again after a crash carries the same Message-ID and a receiving server can drop it.
    email["Message-ID"] = f"<{message.message_key}@{domain}>"
    email["X-Bookings-Message-Key"] = message.message_key
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    for attachment in message.attachments or []:
        mime, *raw_params = [part.strip() for part in attachment["content_type"].split(";")]
        maintype, subtype = mime.split("/")
        # Keep parameters such as method=REQUEST: mail clients need it to treat a calendar file as an invite.
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        params.pop("charset", None)
        email.add_attachment(
            attachment["content"].encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
            params=params,
        )
    return email


def _send(email: EmailMessage) -> None:
    config = current_app.config
    if not config["MAIL_SERVER"]:
        raise RuntimeError("MAIL_SERVER is not set")
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config["MAIL_USE_TLS"]:
            # smtplib's default context checks no certificate; a real one refuses a server that
            # cannot prove its name, so the password and the mail cannot go to an impostor.
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def _server_unavailable(error: BaseException) -> bool:
    # When the server answered about this message, the message is the problem, not the server.
    # A refused login or a 421 ("closing, try later") is the server's or the settings' problem:
    # trying the rest of the queue would only spend every message's attempts.
    if isinstance(error, smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == SMTP_SERVICE_NOT_AVAILABLE:
        return True
    return not isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)


def deliver_pending(now: datetime, *, limit: int = 500) -> dict[str, int]:
    """Send due messages; returns counts of sent and failed attempts."""
    counts = {"sent": 0, "failed": 0}
    try:
        render_deferred()  # messages whose request ended before it rendered them
    except Exception:  # the rendered ones must still go out; the rest wait for the next run
        db.session.rollback()
        log.exception("Could not render the unrendered outbox messages")
    for _ in range(limit):
        message = _claim_next(now)
        if message is None:
            break
        try:
            _send(build_email(message))
        except (OSError, smtplib.SMTPException, RuntimeError) as error:
            _mark_failed(message.id, message.attempts, f"{type(error).__name__}: {error}", now)
            counts["failed"] += 1
            if _server_unavailable(error):
                break  # the server is down or unset: leave the rest for the next run
            continue
        _mark_sent(message.id, now)
        counts["sent"] += 1
    return counts
