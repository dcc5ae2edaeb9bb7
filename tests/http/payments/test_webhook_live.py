"""The whole card journey over real HTTP: the fake Stripe delivers signed webhooks to the app in gunicorn."""

from __future__ import annotations

import pytest
import requests

from bookings.booking.models import BookingStatus, PaymentStatus
from tests.integration.payments.support import checkout, events_of, held_booking, paid_event, payment_of, reload


@pytest.fixture(scope="module")
def live_server_config(fake_stripe_server):
    return fake_stripe_server.app_config()


def test_stripe_delivers_the_paid_checkout_to_the_live_app_which_confirms_once(
    stripe_app, fake_stripe, live_server, real_clock
):
    fake_stripe.register_webhook(f"{live_server}/webhooks/stripe")
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id

    fake_stripe.pay(session_id)  # webhooks are delivered before this returns

    [delivery] = [d for d in fake_stripe.deliveries() if d["type"] == "checkout.session.completed"]
    assert delivery["status"] == 200, delivery
    booking = reload(booking)
    assert (booking.status, booking.payment_status) == (BookingStatus.CONFIRMED.value, PaymentStatus.PAID.value)

    [event_id] = events_of(fake_stripe, "checkout.session.completed")
    [again] = fake_stripe.redeliver(event_id)
    assert again["status"] == 200
    assert '"duplicate"' in again["response"]


def test_live_webhook_refuses_a_delivery_signed_with_another_secret(stripe_app, fake_stripe, live_server, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    fake_stripe.pay(session_id)
    [event_id] = events_of(fake_stripe, "checkout.session.completed")
    body = fake_stripe.event_payload(event_id)

    response = requests.post(
        f"{live_server}/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": fake_stripe.sign(body, secret="whsec_someone_else")},
        timeout=30,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert reload(booking).is_held
