"""Payment pages and the webhook over HTTP, against the fake Stripe."""

from tests.fixtures_components import fake_stripe, live_server  # noqa: F401
from tests.integration.payments.conftest import fake_stripe_server, real_clock, stripe_app  # noqa: F401
