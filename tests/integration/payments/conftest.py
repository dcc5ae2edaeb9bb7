"""Payment tests run against the fake Stripe (localstripe + Checkout Sessions) over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bookings.core import clock as clock_module
from tests.conftest import FakeClock
from tests.fixtures_components import fake_stripe  # noqa: F401
from tests.integration.payments.support import real_now
from tests.support.fake_stripe import FakeStripe

START_ATTEMPTS = 3


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """One fake Stripe per session. FakeStripe.start() lets a slow first ping's ReadTimeout escape on a loaded
    machine (it only catches ConnectionError); start again rather than fail the suite."""
    for attempt in range(START_ATTEMPTS):
        server = FakeStripe()
        try:
            server.start()
            break
        except requests.ReadTimeout:
            server.stop()
            if attempt == START_ATTEMPTS - 1:
                raise
    yield server
    server.stop()


@pytest.fixture
def stripe_app(app, fake_stripe):  # noqa: F811
    """The app pointed at the fake Stripe (keys, webhook secret, API base)."""
    app.config.update(fake_stripe.app_config())
    return app


@pytest.fixture
def real_clock():
    """A hand-moved clock that starts at the real time (the fake checks expires_at against it)."""
    fake = FakeClock(real_now())
    clock_module.set_clock(fake)
    yield fake
    clock_module.set_clock(None)
