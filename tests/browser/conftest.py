"""Browser journeys: one live server for the whole folder, wired to the fake Stripe and an SMTP sink.

The component fixtures (`browser`, `page`, `fake_stripe`, ...) come from
tests/fixtures_components.py; tests/conftest.py does not import them for the
whole suite, so this folder imports them itself, as tests/infra does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tests.conftest as _root
from tests.support.live_server import LiveServer
from tests.support.smtp import SmtpSink

if not hasattr(_root, "live_server"):
    from tests.fixtures_components import *  # noqa: F403


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[SmtpSink]:
    """One SMTP sink for the session; the outbox is delivered to it from the test process."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def live_server(database_url, _schema, fake_stripe_server) -> Iterator[LiveServer]:
    """The app in gunicorn, once per session (per xdist worker), with card payments pointed at the fake Stripe.

    Session-scoped rather than per module: the first request compiles the GOV.UK
    macros, which costs seconds, and every journey shares the same settings.
    """
    server = LiveServer(database_url, config=fake_stripe_server.app_config())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stripe(fake_stripe, live_server):
    """The fake Stripe, emptied, sending its signed webhooks to the live server."""
    fake_stripe.register_webhook(f"{live_server.url}/webhooks/stripe")
    return fake_stripe


@pytest.fixture
def mail(app, mail_sink):
    """The SMTP sink, emptied, with the test-process app delivering the outbox to it."""
    app.config.update(MAIL_SERVER=mail_sink.host, MAIL_PORT=mail_sink.port, MAIL_USE_TLS=False, MAIL_USERNAME="")
    mail_sink.clear()
    return mail_sink
