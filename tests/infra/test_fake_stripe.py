"""The fake Stripe, driven by the real `stripe` client, with webhooks received over HTTP and verified."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from tests.support.fake_stripe import FakeStripeError, WebhookReceiver


def _session_params(**overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": 12500,
                    "product_data": {"name": "Data protection course"},
                },
                "quantity": 2,
            }
        ],
        "client_reference_id": "BK-7Q4M2X",
        "metadata": {"booking_reference": "BK-7Q4M2X"},
        "customer_email": "ada@council.example",
        "success_url": "http://bookings.test/bookings/BK-7Q4M2X/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://bookings.test/bookings/BK-7Q4M2X/pay",
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return params


@pytest.fixture
def client(fake_stripe):
    return fake_stripe.client()


@pytest.fixture
def receiver(fake_stripe):
    with WebhookReceiver() as receiver:
        fake_stripe.register_webhook(receiver.url)
        yield receiver


def _verified_events(receiver, secret) -> list[stripe.Event]:
    return [stripe.Webhook.construct_event(r.body, r.headers["Stripe-Signature"], secret) for r in receiver.received]


def test_created_session_can_be_retrieved(client):
    created = client.v1.checkout.sessions.create(params=_session_params())

    retrieved = client.v1.checkout.sessions.retrieve(created.id)

    assert retrieved.id == created.id
    assert (retrieved.status, retrieved.payment_status) == ("open", "unpaid")
    assert (retrieved.amount_total, retrieved.currency) == (25000, "gbp")
    assert retrieved.client_reference_id == "BK-7Q4M2X"
    assert retrieved.metadata["booking_reference"] == "BK-7Q4M2X"
    assert retrieved.url.endswith(f"/pay/{created.id}")


def test_same_idempotency_key_returns_the_same_session(client):
    params = _session_params()

    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "booking-1-attempt-1"})
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "booking-1-attempt-1"})
    other = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "booking-1-attempt-2"})

    assert again.id == first.id
    assert other.id != first.id


def test_idempotency_key_reused_with_other_parameters_is_refused(client):
    client.v1.checkout.sessions.create(params=_session_params(), options={"idempotency_key": "k"})

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=_session_params(client_reference_id="BK-OTHER"), options={"idempotency_key": "k"}
        )


@pytest.mark.parametrize("ahead_seconds", [29 * 60, 24 * 3600 + 60])
def test_expires_at_outside_30_minutes_to_24_hours_is_refused(client, ahead_seconds):
    with pytest.raises(stripe.InvalidRequestError, match="expires_at"):
        client.v1.checkout.sessions.create(params=_session_params(expires_at=int(time.time()) + ahead_seconds))


def test_unknown_parameter_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError, match="unknown parameter: price"):
        client.v1.checkout.sessions.create(params=_session_params(price="price_123"))


def test_paying_completes_the_session_and_sends_a_signed_webhook(fake_stripe, client, receiver):
    session = client.v1.checkout.sessions.create(params=_session_params())

    paid = fake_stripe.pay(session.id)

    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(paid["payment_intent"])
    assert (intent.status, intent.amount) == ("succeeded", 25000)
    events = _verified_events(receiver, fake_stripe.webhook_secret)
    (completed,) = [e for e in events if e.type == "checkout.session.completed"]
    assert completed.data.object.id == session.id
    assert completed.data.object.payment_intent == paid["payment_intent"]
    assert completed.data.object.client_reference_id == "BK-7Q4M2X"


def test_webhook_signature_fails_with_another_secret_or_a_changed_body(fake_stripe, client, receiver):
    fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)
    delivery = receiver.received[-1]

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.headers["Stripe-Signature"], "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.replace(b"paid", b"unpaid"), delivery.headers["Stripe-Signature"], fake_stripe.webhook_secret
        )


def test_expiring_through_the_api_sends_checkout_session_expired(fake_stripe, client, receiver):
    session = client.v1.checkout.sessions.create(params=_session_params())

    expired = client.v1.checkout.sessions.expire(session.id)
    fake_stripe.flush_webhooks()

    assert expired.status == "expired"
    assert [e.type for e in _verified_events(receiver, fake_stripe.webhook_secret)] == ["checkout.session.expired"]


def test_expired_session_cannot_be_paid(fake_stripe, client, receiver):
    session = client.v1.checkout.sessions.create(params=_session_params())

    expired = fake_stripe.expire(session.id)

    assert expired["status"] == "expired"
    assert [e.type for e in _verified_events(receiver, fake_stripe.webhook_secret)] == ["checkout.session.expired"]
    with pytest.raises(FakeStripeError, match="expired; it cannot be paid"):
        fake_stripe.pay(session.id)


def test_refund_against_the_paid_intent_succeeds_once(fake_stripe, client, receiver):
    paid = fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)

    refund = client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})

    assert (refund.status, refund.amount) == ("succeeded", 25000)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})
    assert error.value.code == "charge_already_refunded"


def test_refund_made_to_fail_fails_once_then_succeeds(fake_stripe, client):
    paid = fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)
    fake_stripe.fail_next_refund()

    with pytest.raises(stripe.APIError):
        client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]}, options={"idempotency_key": "r1"})
    refund = client.v1.refunds.create(
        params={"payment_intent": paid["payment_intent"]}, options={"idempotency_key": "r1"}
    )

    assert refund.status == "succeeded"


def test_stored_event_can_be_delivered_again(fake_stripe, client, receiver):
    fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)
    (completed,) = fake_stripe.events(type="checkout.session.completed")

    fake_stripe.redeliver(completed["id"])

    deliveries = [r for r in _verified_events(receiver, fake_stripe.webhook_secret) if r.id == completed["id"]]
    assert len(deliveries) == 2
    assert fake_stripe.events(type="checkout.session.completed")[0]["delivered"] == 2


def test_held_events_are_delivered_in_the_chosen_order(fake_stripe, client, receiver):
    fake_stripe.hold_webhooks()
    session = client.v1.checkout.sessions.create(params=_session_params())
    fake_stripe.pay(session.id)
    assert receiver.received == []
    held = fake_stripe.events()
    assert [e["type"] for e in held] == ["payment_intent.succeeded", "checkout.session.completed"]

    fake_stripe.deliver([held[1]["id"], held[0]["id"]])

    types = [e.type for e in _verified_events(receiver, fake_stripe.webhook_secret)]
    assert types == ["checkout.session.completed", "payment_intent.succeeded"]
    assert fake_stripe.release_webhooks() == []  # nothing was left waiting


def test_signed_payload_can_be_posted_by_hand(fake_stripe, client):
    fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)
    (completed,) = fake_stripe.events(type="checkout.session.completed")

    payload = fake_stripe.event_payload(completed["id"])
    event = stripe.Webhook.construct_event(payload, fake_stripe.sign(payload), fake_stripe.webhook_secret)

    assert event.id == completed["id"]


def test_hosted_page_pays_and_redirects_to_the_success_url(fake_stripe, client, receiver):
    session = client.v1.checkout.sessions.create(params=_session_params())

    page = requests.get(session.url, timeout=10)
    response = requests.post(session.url, data={"action": "pay"}, allow_redirects=False, timeout=10)

    assert page.status_code == 200 and "Pay 250.00 GBP" in page.text
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"paid?session={session.id}")
    assert fake_stripe.session(session.id)["payment_status"] == "paid"
    assert "checkout.session.completed" in [e.type for e in _verified_events(receiver, fake_stripe.webhook_secret)]


def test_reset_forgets_sessions(fake_stripe, client):
    session = client.v1.checkout.sessions.create(params=_session_params())

    fake_stripe.reset()

    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)


def test_refund_failure_is_not_hidden_by_the_clients_own_retries(fake_stripe):
    retrying = stripe.StripeClient(
        fake_stripe.secret_key, base_addresses={"api": fake_stripe.api_base}, max_network_retries=2
    )
    paid = fake_stripe.pay(retrying.v1.checkout.sessions.create(params=_session_params()).id)
    fake_stripe.fail_next_refund(status=500)

    with pytest.raises(stripe.APIError):
        retrying.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})


def test_refund_can_be_made_to_fail_several_times(fake_stripe, client):
    paid = fake_stripe.pay(client.v1.checkout.sessions.create(params=_session_params()).id)
    fake_stripe.fail_next_refund(status=400, code="charge_disputed", type="invalid_request_error", times=2)

    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]})
        assert error.value.code == "charge_disputed"
    assert client.v1.refunds.create(params={"payment_intent": paid["payment_intent"]}).status == "succeeded"
