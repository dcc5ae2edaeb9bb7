"""Helpers for the accounts pages: sign in through the form, read the outbox, count rows."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bookings.accounts.models import ApiToken, User
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage

COUNTED = {"users": User, "tokens": ApiToken, "emails": OutboxMessage, "audit": AuditRecord}


def count_rows() -> dict[str, int]:
    db.session.rollback()
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def client_from(app, address: str):
    """A test client whose requests come from another network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email: str, password: str, *, remember: bool = False, next_url: str | None = None):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    url = "/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data=data)


def error_summary(html: str) -> list[str]:
    """The messages in the GOV.UK error summary, in order."""
    block = re.search(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', html, re.S)
    if not block:
        return []
    return [m.strip() for m in re.findall(r"<a [^>]*>(.*?)</a>", block.group(1), re.S)]


def latest_email(kind: str) -> OutboxMessage:
    db.session.rollback()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc())
    message = db.session.scalars(query).first()
    assert message is not None, f"no {kind} email queued"
    return message


def reset_path(message: OutboxMessage) -> str:
    match = re.search(r"(/password-reset/[A-Za-z0-9_.\-]+)", message.text_body)
    assert match, message.text_body
    return match.group(1)
