"""Delivery guarantees through a real SMTP server on localhost (aiosmtpd): back-off while it is down and
one copy once it is back, several `send-mail` processes at once, a crashed sender, STARTTLS and login."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from bookings.extensions import db
from bookings.notifications import outbox
from bookings.notifications.models import OutboxMessage, OutboxStatus
from bookings.notifications.outbox import BACKOFF_BASE_SECONDS, SENDING_TIMEOUT, deliver_pending
from tests.integration.notifications.conftest import queue_messages
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def _statuses() -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(select(OutboxMessage.to_address, OutboxMessage.status)).all()
    db.session.commit()
    return dict(rows)


def _keys(sink: SmtpSink) -> list[str]:
    return sorted(m["X-Bookings-Message-Key"] for m in sink.messages)


# --- the server is down, then back --------------------------------------------------------------------------------


def test_mail_queued_while_the_server_is_down_goes_out_once_after_the_back_off(smtp_server):
    queue_messages(3, NOW)
    smtp_server.stop()

    assert deliver_pending(NOW) == {"sent": 0, "failed": 1}  # one refused connection; the rest wait
    smtp_server.start()
    assert deliver_pending(NOW + timedelta(seconds=BACKOFF_BASE_SECONDS - 1)) == {"sent": 2, "failed": 0}
    assert deliver_pending(NOW + timedelta(seconds=BACKOFF_BASE_SECONDS)) == {"sent": 1, "failed": 0}
    assert deliver_pending(NOW + timedelta(hours=2)) == {"sent": 0, "failed": 0}

    assert sorted(m["To"] for m in smtp_server.messages) == [f"person{n}@council.example" for n in range(3)]
    assert len(set(_keys(smtp_server))) == 3
    assert set(_statuses().values()) == {OutboxStatus.SENT.value}


def test_with_no_mail_server_set_mail_waits_with_its_attempts_unspent_then_goes_once_one_is(app, smtp_sink):
    app.config["MAIL_SERVER"] = ""
    queue_messages(2, NOW)

    for hours in range(12):  # more runs than MAIL_MAX_ATTEMPTS: none may be spent
        assert deliver_pending(NOW + timedelta(hours=hours)) == {"sent": 0, "failed": 0}
    waiting = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.status, m.attempts) for m in waiting] == [(OutboxStatus.PENDING.value, 0)] * 2

    app.config.update(MAIL_SERVER=smtp_sink.host, MAIL_PORT=smtp_sink.port, MAIL_USE_TLS=False, MAIL_USERNAME="")
    assert deliver_pending(NOW + timedelta(hours=12)) == {"sent": 2, "failed": 0}
    assert sorted(m["To"] for m in smtp_sink.messages) == ["person0@council.example", "person1@council.example"]


def test_each_failure_doubles_the_wait_and_is_recorded(smtp_server):
    queue_messages(1, NOW)
    smtp_server.stop()

    deliver_pending(NOW)
    deliver_pending(NOW + timedelta(seconds=BACKOFF_BASE_SECONDS))

    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.attempts == 2
    assert message.status == OutboxStatus.PENDING.value
    assert message.next_attempt_at == NOW + timedelta(seconds=3 * BACKOFF_BASE_SECONDS)
    assert "ConnectionRefusedError" in message.last_error


def test_a_message_gives_up_after_the_last_attempt_and_is_marked_failed(app, smtp_server):
    app.config["MAIL_MAX_ATTEMPTS"] = 2
    queue_messages(1, NOW)
    smtp_server.stop()

    deliver_pending(NOW)
    deliver_pending(NOW + timedelta(hours=1))
    smtp_server.start()
    deliver_pending(NOW + timedelta(days=1))

    assert _statuses() == {"person0@council.example": OutboxStatus.FAILED.value}
    assert smtp_server.messages == []


# --- a crashed sender -----------------------------------------------------------------------------------------------


def test_a_message_left_sending_by_a_crashed_sender_is_resent_with_the_same_message_id(smtp_server, monkeypatch):
    queue_messages(1, NOW)

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt("the sender died after the server accepted the message")

    monkeypatch.setattr(outbox.delivery, "_mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver_pending(NOW)
    monkeypatch.undo()
    db.session.rollback()

    assert _statuses() == {"person0@council.example": OutboxStatus.SENDING.value}
    assert deliver_pending(NOW + SENDING_TIMEOUT - timedelta(seconds=1)) == {"sent": 0, "failed": 0}
    assert deliver_pending(NOW + SENDING_TIMEOUT + timedelta(seconds=1)) == {"sent": 1, "failed": 0}

    # At least once, not exactly once: the server got it twice, recognisably the same message.
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert _statuses() == {"person0@council.example": OutboxStatus.SENT.value}


# --- several send-mail processes at once ---------------------------------------------------------------------------


def _flask(database_url: str, sink: SmtpSink, *args: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "BOOKINGS_ENV": "development",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": sink.host,
        "MAIL_PORT": str(sink.port),
        "MAIL_USE_TLS": "false",
        "MAIL_USERNAME": "",
        **env,
    }
    command = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "bookings", *args]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _run_together(processes: list[subprocess.Popen]) -> list[str]:
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_several_send_mail_processes_at_once_deliver_each_message_once(database_url, smtp_server):
    now = datetime.now(UTC) - timedelta(minutes=1)
    queue_messages(60, now)

    outputs = _run_together([_flask(database_url, smtp_server, "send-mail", "--limit", "100") for _ in range(4)])

    assert sum(int(out.split()[0].removeprefix("sent=")) for out in outputs) == 60
    keys = _keys(smtp_server)
    assert len(keys) == 60
    assert len(set(keys)) == 60
    assert set(_statuses().values()) == {OutboxStatus.SENT.value}


# --- STARTTLS and login --------------------------------------------------------------------------------------------

USERNAME, PASSWORD = "bookings", "s3cret-smtp-password"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with openssl)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_sink(app, certificate):
    """aiosmtpd demanding STARTTLS before anything, and a login over TLS; collects into an SmtpSink."""
    from tests.support.smtp import _Handler

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SmtpSink()
    controller = Controller(
        _Handler(sink),
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_USE_TLS=True,
        MAIL_USERNAME=USERNAME,
        MAIL_PASSWORD=PASSWORD,
    )
    yield sink
    controller.stop()


def test_mail_goes_over_starttls_with_a_login_to_a_server_whose_certificate_is_trusted(
    tls_sink, certificate, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    queue_messages(2, NOW)

    assert deliver_pending(NOW) == {"sent": 2, "failed": 0}
    assert sorted(m["To"] for m in tls_sink.messages) == ["person0@council.example", "person1@council.example"]


def test_a_server_with_an_untrusted_certificate_gets_no_mail(tls_sink):
    queue_messages(2, NOW)

    assert deliver_pending(NOW) == {"sent": 0, "failed": 1}
    assert tls_sink.messages == []
    failed = db.session.scalars(select(OutboxMessage).where(OutboxMessage.attempts == 1)).one()
    assert "CERTIFICATE_VERIFY_FAILED" in failed.last_error


def test_a_refused_login_stops_the_run_without_spending_every_messages_attempts(
    app, tls_sink, certificate, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    app.config["MAIL_PASSWORD"] = "wrong"
    queue_messages(3, NOW)

    assert deliver_pending(NOW) == {"sent": 0, "failed": 1}
    attempts = sorted(db.session.scalars(select(OutboxMessage.attempts)).all())
    assert attempts == [0, 0, 1]
    assert tls_sink.messages == []


def test_without_tls_the_password_is_never_offered_and_nothing_is_sent(app, tls_sink):
    app.config["MAIL_USE_TLS"] = False
    queue_messages(1, NOW)

    assert deliver_pending(NOW) == {"sent": 0, "failed": 1}
    assert tls_sink.messages == []
    # The server offers AUTH only over TLS, so the client stops before it would send the password.
    assert "SMTPNotSupportedError" in db.session.scalars(select(OutboxMessage.last_error)).one()


# --- reminders from several sweeps at once --------------------------------------------------------------------------


def test_sweeps_on_several_hosts_at_once_send_each_reminder_once(database_url, smtp_server):
    from bookings.booking import services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod
    from tests.support.factories import make_event, make_user

    now = datetime.now(UTC)
    expected = []
    for e in range(4):
        event = make_event(title=f"Course {e}", starts_at=now + timedelta(days=1), capacity=20)
        for b in range(3):
            booker = make_user(email=f"booker{e}-{b}@council.example")
            services.book_places(
                event_id=event.id,
                booker=booker,
                ticket_type_id=None,
                people=[AttendeeInput(name="Colleague", email=f"colleague{e}-{b}@council.example")],
                method=PaymentMethod.FREE,
                now=now - timedelta(minutes=1),
            )
            expected += [booker.email, f"colleague{e}-{b}@council.example"]

    outputs = _run_together([_flask(database_url, smtp_server, "sweep") for _ in range(3)])

    assert sum(int(dict(p.split("=") for p in out.split())["reminders_queued"]) for out in outputs) == 24
    reminders = [m for m in smtp_server.messages if m["Subject"].startswith("Reminder:")]
    assert sorted(m["To"] for m in reminders) == sorted(expected)
    confirmations = [m for m in smtp_server.messages if not m["Subject"].startswith("Reminder:")]
    assert len(confirmations) == len({m["Message-ID"] for m in confirmations}) == 24


# --- places cancelled and given away while senders run ---------------------------------------------------------------

# A sender in its own process that runs delivery over and over (as the mail timer does, without the start-up
# time of a `flask` process between runs) until the file named by its argument exists.
_SENDER = """
import os, sys, time
from wsgi import app
from bookings.core.clock import utcnow
from bookings.notifications.outbox import deliver_pending
with app.app_context():
    while not os.path.exists(sys.argv[1]):
        deliver_pending(utcnow())
        time.sleep(0.005)
    print("done")
"""


def test_confirmations_taken_back_while_senders_run_are_never_delivered(app, database_url, smtp_server, tmp_path):
    """Rule 7 with `withdraw_unsent` racing the senders: whatever the interleaving, a message is delivered at most
    once, only if its row still exists (a withdrawn one never goes), and nothing is left half-sent."""
    from bookings.booking import services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod
    from tests.support.factories import make_event, make_user

    booker = make_user(email="booker@council.example")
    event = make_event(capacity=500)
    stop = tmp_path / "stop"
    environment = {
        **os.environ,
        "BOOKINGS_ENV": "development",
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": str(smtp_server.port),
        "MAIL_USE_TLS": "false",
        "MAIL_USERNAME": "",
    }
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", _SENDER, str(stop)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(2)  # both senders started and running
    cancelled = []
    for n in range(40):
        now = datetime.now(UTC)
        people = [AttendeeInput(name=f"P{n} {x}", email=f"p{n}{x}@council.example") for x in "abc"]
        booking = services.book_places(
            event_id=event.id, booker=booker, ticket_type_id=None, people=people, method=PaymentMethod.FREE, now=now
        )
        a, b, _ = booking.attendees
        time.sleep(0.01 * (n % 8))  # sometimes before the senders reach the confirmations, sometimes after
        services.cancel_booking(reference=booking.reference, actor=booker, now=now, attendee_ids=[a.id])
        services.substitute_attendee(
            reference=booking.reference,
            attendee_id=b.id,
            name="Sub",
            email=f"s{n}@council.example",
            actor=booker,
            now=now,
        )
        cancelled.append(f"p{n}a@council.example")
    stop.touch()
    for sender in senders:
        out, err = sender.communicate(timeout=120)
        assert sender.returncode == 0 and out.strip() == "done", err
    deliver_pending(datetime.now(UTC) + timedelta(minutes=1))  # whatever the last run left due

    db.session.expire_all()
    rows = {m.message_key: m for m in db.session.scalars(select(OutboxMessage))}
    delivered = _keys(smtp_server)
    assert len(delivered) == len(set(delivered))  # each at most once
    assert set(delivered) <= set(rows)  # a withdrawn (deleted) message never went out
    assert {m.status for m in rows.values()} == {OutboxStatus.SENT.value}  # none left unrendered or sending
    told = [m.to_address for m in rows.values() if m.kind == "place_cancelled"]
    assert sorted(told) == sorted(cancelled)
