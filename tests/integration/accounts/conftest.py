"""Helpers for the accounts service tests."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bookings.accounts.models import ApiToken, User
from bookings.core.audit import AuditRecord
from bookings.core.throttle import ThrottleHit
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage

COUNTED = {"users": User, "tokens": ApiToken, "emails": OutboxMessage, "audit": AuditRecord, "hits": ThrottleHit}


def count_rows() -> dict[str, int]:
    db.session.rollback()  # see what is committed, not what a failed service left in the session
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in COUNTED.items()}


def outbox(kind: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def audit_actions(subject_id: object) -> list[str]:
    query = select(AuditRecord.action).where(AuditRecord.subject_id == str(subject_id)).order_by(AuditRecord.id)
    return list(db.session.scalars(query))


def reset_token_from(message: OutboxMessage) -> str:
    match = re.search(r"/password-reset/([A-Za-z0-9_.\-]+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


@pytest.fixture
def now(clock):
    return clock.now
