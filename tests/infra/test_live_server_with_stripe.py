"""The live server configured for the fake Stripe receives its signed webhooks (the fixtures compose)."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(scope="module")
def live_server_config(fake_stripe_server):
    return fake_stripe_server.app_config()


def _paid_session(fake_stripe) -> dict:
    session = fake_stripe.client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {"currency": "gbp", "unit_amount": 5000, "product_data": {"name": "Course"}},
                    "quantity": 1,
                }
            ],
            "client_reference_id": "BK-UNKNOWN",
            "success_url": "http://bookings.test/paid",
            "expires_at": int(time.time()) + 3600,
        }
    )
    return fake_stripe.pay(session.id)


def test_signed_webhook_is_accepted_by_the_live_server_once(app, live_server, fake_stripe):
    fake_stripe.register_webhook(f"{live_server.url}/webhooks/stripe", events=["checkout.session.completed"])
    _paid_session(fake_stripe)
    (completed,) = fake_stripe.events(type="checkout.session.completed")

    (redelivery,) = fake_stripe.redeliver(completed["id"])

    assert [d["status"] for d in fake_stripe.deliveries()] == [200, 200]
    assert "duplicate" in redelivery["response"]


def test_webhook_signed_with_another_secret_is_refused_by_the_live_server(app, live_server, fake_stripe):
    fake_stripe.register_webhook(
        f"{live_server.url}/webhooks/stripe", events=["checkout.session.completed"], secret="whsec_not_the_apps"
    )

    _paid_session(fake_stripe)

    (delivery,) = fake_stripe.deliveries()
    assert delivery["status"] == 400
    assert "bad_signature" in delivery["response"]
