"""Payment tests run against the fake Stripe (localstripe + Checkout Sessions) over real HTTP."""

from __future__ import annotations

import pytest

from bookings.core import clock as clock_module
from tests.conftest import FakeClock
from tests.fixtures_components import fake_stripe, fake_stripe_server  # noqa: F401
from tests.integration.payments.support import real_now


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
