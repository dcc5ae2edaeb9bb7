"""Sending: claim one due message at a time, send it over SMTP, mark it sent or schedule a retry."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import or_, select, update

from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox.deferred import render_deferred
from bookings.notifications.outbox.queueing import after_failed_attempt

log = logging.getLogger(__name__)

SENDING_TIMEOUT = timedelta(minutes=10)
SMTP_SERVICE_NOT_AVAILABLE = 421


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
    values = after_failed_attempt(attempts, now, waiting_status=OutboxStatus.PENDING.value)
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
    """Send due messages; returns counts of sent and failed attempts.

    With no `MAIL_SERVER` set messages are rendered but none is claimed:
    mail waits in the outbox, its attempts unspent, until a server is set.
    """
    counts = {"sent": 0, "failed": 0}
    try:
        render_deferred(now)
    except Exception:  # the rendered ones must still go out; the rest wait for the next run
        db.session.rollback()
        log.exception("Could not render the unrendered outbox messages")
    if not current_app.config["MAIL_SERVER"]:
        log.warning("MAIL_SERVER is not set: outbox mail waits until it is")
        return counts
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
