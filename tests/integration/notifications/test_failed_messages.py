"""Admins see mail that could not be sent, and can put it back in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict, Forbidden, NotFound
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox import deliver_pending
from bookings.notifications.services import failed_messages, outbox_counts, retry_message
from tests.integration.notifications.conftest import queue_messages
from tests.support.factories import make_admin, make_user

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def given_up(app, smtp_server):
    """One message that failed MAIL_MAX_ATTEMPTS times while the server was down (the server is back now)."""
    app.config["MAIL_MAX_ATTEMPTS"] = 1
    queue_messages(1, NOW)
    smtp_server.stop()
    deliver_pending(NOW)
    smtp_server.start()
    return db.session.scalars(select(OutboxMessage)).one()


def test_a_message_that_gave_up_is_listed_with_its_error(given_up):
    (problem,) = failed_messages(limit=10)

    assert problem.id == given_up.id
    assert problem.has_given_up
    assert problem.to_address == "person0@council.example"
    assert "ConnectionRefusedError" in problem.last_error
    assert outbox_counts() == {"unrendered": 0, "pending": 0, "sending": 0, "sent": 0, "failed": 1}


def test_a_message_waiting_to_retry_after_an_error_is_listed_too(smtp_server):
    queue_messages(2, NOW)
    smtp_server.stop()
    deliver_pending(NOW)

    (problem,) = failed_messages(limit=10)
    assert problem.status == OutboxStatus.PENDING.value
    assert not problem.has_given_up


def test_retrying_sends_the_message_once_on_the_next_run_and_is_audited(given_up, smtp_server):
    admin = make_admin()

    retry_message(given_up.id, admin, NOW + timedelta(hours=1))
    assert deliver_pending(NOW + timedelta(hours=1)) == {"sent": 1, "failed": 0}
    assert deliver_pending(NOW + timedelta(days=1)) == {"sent": 0, "failed": 0}

    assert [m["To"] for m in smtp_server.messages] == ["person0@council.example"]
    assert failed_messages(limit=10) == []
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.action == "email.retried")).one()
    assert record.actor_id == admin.id


def test_only_an_admin_can_retry(given_up):
    with pytest.raises(Forbidden):
        retry_message(given_up.id, make_user(), NOW)


def test_a_sent_message_cannot_be_retried(smtp_server):
    queue_messages(1, NOW)
    deliver_pending(NOW)
    message = db.session.scalars(select(OutboxMessage)).one()

    with pytest.raises(Conflict) as error:
        retry_message(message.id, make_admin(), NOW)
    assert error.value.code == "already_sent"


def test_retrying_an_unknown_message_is_not_found(app):
    with pytest.raises(NotFound):
        retry_message(12345, make_admin(), NOW)
