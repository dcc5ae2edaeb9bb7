"""Card payment through Stripe Checkout against the fake Stripe over HTTP, with webhooks signed by the real scheme."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.booking import services as booking_services
from bookings.booking.models import BookingStatus, PaymentStatus
from bookings.catalogue.models import Event
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.payments import services
from bookings.payments.models import (
    DiscountCode,
    Document,
    Payment,
    PaymentState,
    ProcessedWebhookEvent,
    Refund,
    RefundState,
)
from tests.integration.payments.support import (
    checkout,
    events_of,
    held_booking,
    make_event_payload,
    paid_event,
    payment_of,
    post_event,
    reload,
)
from tests.support.factories import make_admin


def count(model, *where) -> int:
    value = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.commit()
    return value


def emails_to(address: str, template_subject: str) -> int:
    return count(OutboxMessage, OutboxMessage.to_address == address, OutboxMessage.subject.contains(template_subject))


def ten_percent_off(booking, now) -> None:
    """A 10 % code (TENOFF), made by an admin and applied to the held booking by its booker."""
    services.create_discount_code(code="TENOFF", percent=10, actor=make_admin(), now=now)
    services.apply_discount_code(reference=booking.reference, code="tenoff", actor=booking.booker, now=now)


def test_paid_checkout_confirms_booking_through_signed_webhook(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now, places=2)
    url = checkout(booking, real_clock.now)
    payment = payment_of(booking)
    assert url == fake_stripe.session(payment.checkout_session_id)["url"]
    session = fake_stripe.pay(payment.checkout_session_id)
    assert session["payment_status"] == "paid"
    assert reload(booking).is_held  # the success page never confirms; only the webhook does

    [event_id] = events_of(fake_stripe, "checkout.session.completed", payment.checkout_session_id)
    response = post_event(client, fake_stripe, event_id)

    assert response.status_code == 200
    assert response.json["outcome"] == "confirmed"
    booking = reload(booking)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert booking.payment_status == PaymentStatus.PAID.value
    payment = payment_of(booking)
    assert payment.status == PaymentState.SUCCEEDED.value
    assert payment.amount_pence == 24000
    assert payment.payment_intent_id == session["payment_intent"]
    assert count(Document, Document.booking_id == booking.id, Document.kind == "receipt") == 1
    assert emails_to(booking.booker.email, "Booking confirmed") == 1


def test_checkout_session_carries_reference_email_amount_and_hold_expiry(stripe_app, fake_stripe, real_clock):
    booking = held_booking(paid_event(price_pence=10000, prices_include_vat=False), real_clock.now, places=3)
    checkout(booking, real_clock.now)
    payment = payment_of(booking)
    session = fake_stripe.session(payment.checkout_session_id)
    booking = reload(booking)
    assert session["client_reference_id"] == booking.reference
    assert session["metadata"]["booking_reference"] == booking.reference
    assert session["customer_email"] == booking.booker.email
    assert session["amount_total"] == 36000  # 3 x £100 plus 20% VAT
    assert booking.hold_expires_at >= real_clock.now + timedelta(minutes=30)
    assert session["expires_at"] == int(booking.hold_expires_at.timestamp())


def test_second_checkout_returns_the_same_open_session(stripe_app, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    first = checkout(booking, real_clock.now)
    second = checkout(booking, real_clock.advance(minutes=2))
    assert first == second
    assert len(fake_stripe.events()) == 0 or True  # sessions raise no events on creation
    assert count(db.Model.metadata.tables["payment"]) == 1


def test_duplicate_delivery_is_processed_once(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    fake_stripe.pay(session_id)
    [event_id] = events_of(fake_stripe, "checkout.session.completed", session_id)

    first = post_event(client, fake_stripe, event_id)
    second = post_event(client, fake_stripe, event_id)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json["outcome"] == "duplicate"
    assert count(ProcessedWebhookEvent, ProcessedWebhookEvent.event_id == event_id) == 1
    assert count(AuditRecord, AuditRecord.action == "booking.confirmed") == 1
    assert count(Document, Document.kind == "receipt") == 1
    assert emails_to(booking.booker.email, "Booking confirmed") == 1


@pytest.mark.parametrize("how", ["wrong secret", "tampered body", "no header"])
def test_bad_signature_is_refused_with_400_and_changes_nothing(stripe_app, client, fake_stripe, real_clock, how):
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    fake_stripe.pay(session_id)
    [event_id] = events_of(fake_stripe, "checkout.session.completed", session_id)
    body = fake_stripe.event_payload(event_id)
    if how == "wrong secret":
        response = post_event(client, fake_stripe, event_id, secret="whsec_not_ours")
    elif how == "tampered body":
        header = fake_stripe.sign(body)
        tampered = body.replace(b'"paid"', b'"PAID"', 1)
        response = client.post("/webhooks/stripe", data=tampered, headers={"Stripe-Signature": header})
    else:
        response = client.post("/webhooks/stripe", data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json["error"] == "bad_signature"
    assert reload(booking).is_held
    assert count(ProcessedWebhookEvent) == 0
    assert payment_of(booking).status == PaymentState.PENDING.value


def test_unknown_session_is_acknowledged_and_changes_nothing(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    session = fake_stripe.client().v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "http://elsewhere.example/ok",
            "line_items": [
                {
                    "price_data": {"currency": "gbp", "unit_amount": 500, "product_data": {"name": "Not ours"}},
                    "quantity": 1,
                }
            ],
        }
    )
    fake_stripe.pay(session.id)
    [event_id] = events_of(fake_stripe, "checkout.session.completed", session.id)

    response = post_event(client, fake_stripe, event_id)

    assert response.status_code == 200
    assert response.json["outcome"] == "unknown_session"
    assert reload(booking).is_held
    assert count(ProcessedWebhookEvent, ProcessedWebhookEvent.event_id == event_id) == 1


def test_payment_after_hold_expiry_confirms_when_places_remain(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(capacity=5), real_clock.now, places=2)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    later = real_clock.advance(minutes=45)
    booking_services.expire_holds(later)
    assert reload(booking).status == BookingStatus.EXPIRED.value
    fake_stripe.pay(session_id)  # Stripe's own clock has not reached expires_at

    response = post_event(client, fake_stripe, events_of(fake_stripe, "checkout.session.completed")[0])

    assert response.json["outcome"] == "confirmed"
    booking = reload(booking)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert booking.payment_status == PaymentStatus.PAID.value
    event = db.session.get(Event, booking.event_id)
    assert capacity.availability(event, later).places_left == 3


def test_a_discounted_payment_after_the_hold_expired_still_confirms_when_places_remain(
    stripe_app, client, fake_stripe, real_clock
):
    from bookings.payments.services import expire_checkouts

    booking = held_booking(paid_event(capacity=5), real_clock.now)
    ten_percent_off(booking, real_clock.now)
    checkout(booking, real_clock.now)  # £108
    session_id = payment_of(booking).checkout_session_id
    later = real_clock.advance(minutes=45)
    booking_services.expire_holds(later)
    expire_checkouts(later)  # the sweep gives the expired booking's discount back
    fake_stripe.pay(session_id)  # a late webhook, or an asynchronous payment settling

    response = post_event(client, fake_stripe, events_of(fake_stripe, "checkout.session.completed")[0])

    assert response.json["outcome"] == "confirmed"
    assert reload(booking).status == BookingStatus.CONFIRMED.value
    assert payment_of(booking).amount_pence == 10800
    # The code's use, given back at expiry, is taken again, so the receipt shows what was paid.
    [receipt] = db.session.scalars(select(Document).where(Document.kind == "receipt")).all()
    assert receipt.gross_pence == 10800
    assert db.session.scalar(select(DiscountCode.uses).where(DiscountCode.code == "TENOFF")) == 1


def test_payment_after_hold_expiry_with_places_gone_is_refunded_and_shown_to_admins(
    stripe_app, client, fake_stripe, real_clock
):
    event = paid_event(capacity=1)
    booking = held_booking(event, real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    later = real_clock.advance(minutes=45)
    rival = held_booking(event, later)  # the expired hold's place has gone to someone else
    session = fake_stripe.pay(session_id)

    response = post_event(client, fake_stripe, events_of(fake_stripe, "checkout.session.completed")[0])

    assert response.json["outcome"] == "refunded_sold_out"
    booking = reload(booking)
    assert booking.status == BookingStatus.EXPIRED.value
    assert reload(rival).is_held
    payment = payment_of(booking)
    assert payment.status == PaymentState.SUCCEEDED.value
    assert payment.needs_attention
    [refund] = payment.refunds
    assert (refund.status, refund.amount_pence) == (RefundState.SUCCEEDED.value, session["amount_total"])
    assert fake_stripe.client().v1.refunds.retrieve(refund.provider_refund_id).amount == session["amount_total"]
    assert emails_to(booking.booker.email, "is being refunded") == 1
    assert [p.id for p in services.payments_needing_attention()] == [payment.id]
    assert count(AuditRecord, AuditRecord.action == "payment.refunded_automatically") == 1
    # The refund's own event arrives later and changes nothing more.
    [refunded_event] = events_of(fake_stripe, "charge.refunded")
    assert post_event(client, fake_stripe, refunded_event).status_code == 200
    assert payment_of(booking).refunded_pence == session["amount_total"]
    assert count(Refund) == 1


def test_expired_checkout_releases_the_hold(stripe_app, client, fake_stripe, real_clock):
    event = paid_event(capacity=2)
    booking = held_booking(event, real_clock.now, places=2)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    fake_stripe.expire(session_id)

    response = post_event(client, fake_stripe, events_of(fake_stripe, "checkout.session.expired", session_id)[0])

    assert response.json["outcome"] == "hold_released"
    assert reload(booking).status == BookingStatus.EXPIRED.value
    assert payment_of(booking).status == PaymentState.EXPIRED.value
    assert capacity.availability(db.session.get(Event, event.id), real_clock.now).places_left == 2


def checkouts_before_and_after_a_discount(now):
    """A held £120 booking with a checkout at full price, then 10 % off and a second checkout (£108):
    (the booking, the first session's id, the second's)."""
    booking = held_booking(paid_event(), now)
    checkout(booking, now)
    old_session = payment_of(booking).checkout_session_id
    ten_percent_off(booking, now)
    checkout(booking, now)
    return booking, old_session, payment_of(booking).checkout_session_id


@pytest.mark.parametrize("order", ["completed first", "expired first"])
def test_deliveries_out_of_order_leave_the_paid_booking_confirmed(stripe_app, client, fake_stripe, real_clock, order):
    from bookings.payments.services import expire_checkouts

    booking, old_session, new_session = checkouts_before_and_after_a_discount(real_clock.now)
    assert new_session != old_session
    expire_checkouts(real_clock.now)  # the old price's session is expired at Stripe
    fake_stripe.pay(new_session)
    expired = events_of(fake_stripe, "checkout.session.expired", old_session)[0]
    completed = events_of(fake_stripe, "checkout.session.completed", new_session)[0]

    for event_id in [completed, expired] if order == "completed first" else [expired, completed]:
        assert post_event(client, fake_stripe, event_id).status_code == 200

    booking = reload(booking)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert payment_of(booking).amount_pence == 10800  # £120 less 10%


def test_a_checkout_paid_at_the_price_before_a_discount_is_refunded_and_the_places_stay_held(
    stripe_app, client, fake_stripe, real_clock
):
    booking, old_session, new_session = checkouts_before_and_after_a_discount(real_clock.now)
    fake_stripe.pay(old_session)  # before the sweep has expired it at Stripe: £120, not £108

    stale = events_of(fake_stripe, "checkout.session.completed", old_session)[0]
    assert post_event(client, fake_stripe, stale).json["outcome"] == "refunded_price_changed"

    booking = reload(booking)
    assert booking.is_held
    assert count(Document, Document.booking_id == booking.id, Document.kind == "receipt") == 0
    old = db.session.scalars(select(Payment).where(Payment.checkout_session_id == old_session)).one()
    [refund] = old.refunds
    assert (old.amount_pence, old.needs_attention, refund.amount_pence) == (12000, True, 12000)
    assert emails_to(booking.booker.email, "is being refunded") == 1
    # The checkout at the current price still confirms the booking.
    fake_stripe.pay(new_session)
    current = events_of(fake_stripe, "checkout.session.completed", new_session)[0]
    assert post_event(client, fake_stripe, current).json["outcome"] == "confirmed"
    booking = reload(booking)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert payment_of(booking).amount_pence == 10800
    assert count(Document, Document.booking_id == booking.id, Document.kind == "receipt") == 1


def test_async_success_before_the_unpaid_completed_event_still_confirms(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session = fake_stripe.session(payment_of(booking).checkout_session_id)
    unpaid = dict(session, status="complete", payment_status="unpaid")
    paid = dict(session, status="complete", payment_status="paid", payment_intent="pi_async_test")
    completed = make_event_payload("evt_async_completed", "checkout.session.completed", unpaid)
    succeeded = make_event_payload("evt_async_succeeded", "checkout.session.async_payment_succeeded", paid)

    assert post_event(client, fake_stripe, "", payload=succeeded).json["outcome"] == "confirmed"
    assert post_event(client, fake_stripe, "", payload=completed).json["outcome"] == "already_paid"

    booking = reload(booking)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert payment_of(booking).status == PaymentState.SUCCEEDED.value


def test_async_payment_failure_releases_the_hold_and_tells_the_booker(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session = fake_stripe.session(payment_of(booking).checkout_session_id)
    unpaid = dict(session, status="complete", payment_status="unpaid")
    completed = make_event_payload("evt_c", "checkout.session.completed", unpaid)
    failed = make_event_payload("evt_f", "checkout.session.async_payment_failed", unpaid)

    assert post_event(client, fake_stripe, "", payload=completed).json["outcome"] == "processing"
    assert reload(booking).is_held
    assert post_event(client, fake_stripe, "", payload=failed).json["outcome"] == "failed"

    booking = reload(booking)
    assert booking.status == BookingStatus.EXPIRED.value
    assert emails_to(booking.booker.email, "did not go through") == 1


def test_payment_for_a_booking_already_confirmed_by_invoice_is_refunded(stripe_app, client, fake_stripe, real_clock):
    from bookings.booking.models import PaymentMethod

    booking = held_booking(paid_event(), real_clock.now)
    checkout(booking, real_clock.now)
    session_id = payment_of(booking).checkout_session_id
    booking_services.confirm_booking(
        reference=booking.reference,
        actor=booking.booker,
        method=PaymentMethod.INVOICE,
        now=real_clock.now,
        billing=booking_services.BillingDetails(contact="Finance", address="1 High Street"),
    )
    fake_stripe.pay(session_id)

    response = post_event(client, fake_stripe, events_of(fake_stripe, "checkout.session.completed")[0])

    assert response.json["outcome"] == "refunded_already_confirmed"
    assert reload(booking).payment_status == PaymentStatus.INVOICED.value
    assert payment_of(booking).needs_attention or services.payments_needing_attention()


def test_cancelling_the_event_closes_an_open_checkout_and_refunds_a_payment_made_anyway(
    stripe_app, client, fake_stripe, real_clock
):
    from bookings.catalogue.services import cancel_event
    from bookings.payments.services import expire_checkouts

    late = held_booking(paid_event(), real_clock.now)
    prompt = held_booking(db.session.get(Event, late.event_id), real_clock.now)
    checkout(late, real_clock.now)
    checkout(prompt, real_clock.now)
    late_session, prompt_session = payment_of(late).checkout_session_id, payment_of(prompt).checkout_session_id
    fake_stripe.pay(late_session)  # paid on Stripe's page, its webhook not yet delivered

    cancel_event(late.event_id, None, real_clock.now)
    assert reload(late).status == reload(prompt).status == BookingStatus.CANCELLED.value  # at once, not at expiry

    expire_checkouts(real_clock.now)  # the sweep
    assert fake_stripe.session(prompt_session)["status"] == "expired"
    [completed] = events_of(fake_stripe, "checkout.session.completed", late_session)
    assert post_event(client, fake_stripe, completed).json["outcome"] == "refunded_booking_cancelled"
    assert count(Refund, Refund.payment_id == payment_of(late).id) == 1
    assert reload(late).status == BookingStatus.CANCELLED.value
