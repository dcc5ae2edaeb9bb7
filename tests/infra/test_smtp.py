"""The SMTP sink, and the outbox delivering through it: sent once, retried after the server was down."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from jinja2 import FileSystemLoader
from sqlalchemy import select

from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox import BACKOFF_BASE_SECONDS, deliver_pending, queue_email
from tests.support.smtp import SmtpSink, body_text

TEST_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _send(sink: SmtpSink, to: str, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "sender@bookings.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Hello")
    with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
        smtp.send_message(message)


@pytest.fixture
def test_templates(app):
    """Let the app render tests/templates/emails/_infra_test.txt (a template that exists only for tests)."""
    app.jinja_loader.loaders.insert(0, FileSystemLoader(str(TEST_TEMPLATES)))
    return app


@transactional
def _queue_test_email(to: str, now: datetime) -> None:
    queue_email("_infra_test", to=to, subject="Your test booking", now=now, name="Ada")


def _only_message() -> OutboxMessage:
    db.session.expire_all()
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    return message


def test_sink_keeps_a_message_sent_over_smtp(smtp_sink):
    _send(smtp_sink, "ada@council.example", "Hello Ada")

    (message,) = smtp_sink.messages
    assert message["To"] == "ada@council.example"
    assert message["Subject"] == "Hello Ada"
    assert body_text(message).strip() == "Hello"


def test_sink_refuses_connections_while_stopped_and_accepts_after_restart(smtp_sink):
    smtp_sink.stop()
    with pytest.raises(ConnectionRefusedError):
        _send(smtp_sink, "ada@council.example", "While down")

    smtp_sink.start()
    _send(smtp_sink, "ada@council.example", "After restart")

    assert [m["Subject"] for m in smtp_sink.messages] == ["After restart"]


def test_wait_for_returns_the_matching_messages(smtp_sink):
    _send(smtp_sink, "ada@council.example", "First")
    _send(smtp_sink, "grace@council.example", "Second")

    matches = smtp_sink.wait_for(lambda m: m["To"] == "grace@council.example")

    assert [m["Subject"] for m in matches] == ["Second"]


def test_wait_for_names_what_arrived_when_the_message_never_comes(smtp_sink):
    _send(smtp_sink, "ada@council.example", "Something else")

    with pytest.raises(TimeoutError, match="Something else"):
        smtp_sink.wait_for(lambda m: m["To"] == "nobody@council.example", timeout=0.2)


def test_smtp_server_fixture_points_the_app_at_the_sink(app, smtp_server):
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == (smtp_server.host, smtp_server.port)


def test_outbox_delivers_a_queued_email_to_the_smtp_server(test_templates, smtp_server):
    _queue_test_email("ada@council.example", NOW)

    counts = deliver_pending(NOW)

    assert counts == {"sent": 1, "failed": 0}
    (email,) = smtp_server.messages
    assert email["To"] == "ada@council.example"
    assert email["Subject"] == "Your test booking"
    assert "Hello Ada," in body_text(email)
    assert _only_message().status == OutboxStatus.SENT.value


def test_outbox_retries_after_the_smtp_server_was_down_and_sends_once(test_templates, smtp_server):
    _queue_test_email("ada@council.example", NOW)
    smtp_server.stop()

    assert deliver_pending(NOW) == {"sent": 0, "failed": 1}
    message = _only_message()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING.value, 1)
    assert message.next_attempt_at == NOW + timedelta(seconds=BACKOFF_BASE_SECONDS)
    assert "ConnectionRefusedError" in message.last_error

    smtp_server.start()
    assert deliver_pending(NOW + timedelta(seconds=BACKOFF_BASE_SECONDS - 1)) == {"sent": 0, "failed": 0}
    assert deliver_pending(NOW + timedelta(seconds=BACKOFF_BASE_SECONDS)) == {"sent": 1, "failed": 0}
    assert deliver_pending(NOW + timedelta(hours=1)) == {"sent": 0, "failed": 0}

    assert [m["To"] for m in smtp_server.messages] == ["ada@council.example"]
    message = _only_message()
    assert (message.status, message.attempts) == (OutboxStatus.SENT.value, 2)
