"""Refunds through the fake Stripe: whole and per place, tracked partial refunds, a refund that fails first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bookings.booking import services as booking_services
from bookings.booking.models import PaymentStatus
from bookings.extensions import db
from bookings.payments import services
from bookings.payments.models import Refund, RefundState
from tests.integration.payments.support import (
    checkout,
    events_of,
    held_booking,
    paid_event,
    payment_of,
    post_event,
    reload,
)


def confirmed_card_booking(client, fake_stripe, now, places: int = 1, price_pence: int = 12000):
    booking = held_booking(paid_event(price_pence=price_pence), now, places=places)
    checkout(booking, now)
    session_id = payment_of(booking).checkout_session_id
    fake_stripe.pay(session_id)
    [event_id] = events_of(fake_stripe, "checkout.session.completed", session_id)
    assert post_event(client, fake_stripe, event_id).json["outcome"] == "confirmed"
    return reload(booking)


def stripe_refunded(fake_stripe, payment) -> int:
    refunds = fake_stripe.client().v1.refunds.list(params={"payment_intent": payment.payment_intent_id})
    return sum(r.amount for r in refunds.data)


def refunds_of(booking) -> list[Refund]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(Refund).where(Refund.booking_id == booking.id).order_by(Refund.id)))
    db.session.commit()
    return rows


def test_cancelling_a_card_booking_refunds_it_in_full(stripe_app, client, fake_stripe, real_clock):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now, places=2)
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=real_clock.now)
    [refund] = refunds_of(booking)
    assert (refund.status, refund.amount_pence) == (RefundState.PENDING.value, 24000)  # written with the cancellation

    assert services.send_pending_refunds_for(booking.reference, real_clock.now) == 1

    [refund] = refunds_of(booking)
    assert refund.status == RefundState.SUCCEEDED.value
    assert refund.provider_refund_id
    assert reload(booking).payment_status == PaymentStatus.REFUNDED.value
    assert stripe_refunded(fake_stripe, payment_of(booking)) == 24000


def test_cancelling_one_place_refunds_that_place_and_tracks_the_partial_refund(
    stripe_app, client, fake_stripe, real_clock
):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now, places=3, price_pence=10000)
    first = booking.active_attendees[0].id
    booking_services.cancel_booking(
        reference=booking.reference, actor=booking.booker, now=real_clock.now, attendee_ids=[first]
    )
    services.retry_refunds(real_clock.now)

    booking = reload(booking)
    assert booking.payment_status == PaymentStatus.PARTIALLY_REFUNDED.value
    payment = payment_of(booking)
    assert payment.refunded_pence == 10000
    assert stripe_refunded(fake_stripe, payment) == 10000
    # Then the rest: what is left of the payment, no more.
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=real_clock.now)
    services.retry_refunds(real_clock.now)
    assert [r.amount_pence for r in refunds_of(booking)] == [10000, 20000]
    assert reload(booking).payment_status == PaymentStatus.REFUNDED.value
    assert stripe_refunded(fake_stripe, payment_of(booking)) == 30000


def test_a_refund_that_fails_is_shown_to_admins_and_retried_by_the_sweep(stripe_app, client, fake_stripe, real_clock):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now)
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=real_clock.now)
    fake_stripe.fail_next_refund(status=500)

    assert services.retry_refunds(real_clock.now)["retry"] == 1

    [refund] = refunds_of(booking)
    assert (refund.status, refund.attempts) == (RefundState.PENDING.value, 1)
    assert refund.last_error
    assert [p.booking_id for p in services.payments_needing_attention()] == [booking.id]
    assert services.retry_refunds(real_clock.now)["succeeded"] == 0  # not due yet: it backs off

    later = real_clock.advance(minutes=5)
    assert services.retry_refunds(later)["succeeded"] == 1

    [refund] = refunds_of(booking)
    assert (refund.status, refund.attempts) == (RefundState.SUCCEEDED.value, 2)
    assert reload(booking).payment_status == PaymentStatus.REFUNDED.value
    assert stripe_refunded(fake_stripe, payment_of(booking)) == 12000


def test_a_refund_stripe_refuses_for_good_is_marked_failed_for_an_admin(stripe_app, client, fake_stripe, real_clock):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now)
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=real_clock.now)
    fake_stripe.fail_next_refund(status=400, code="charge_disputed", type="invalid_request_error")

    assert services.retry_refunds(real_clock.now)["failed"] == 1

    [refund] = refunds_of(booking)
    assert refund.status == RefundState.FAILED.value
    assert payment_of(booking).needs_attention
    assert services.retry_refunds(real_clock.now + timedelta(days=1))["succeeded"] == 0


def test_charge_refunded_event_before_our_answer_is_recorded_counts_the_refund_once(
    stripe_app, client, fake_stripe, real_clock
):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now)
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=real_clock.now)
    [refund] = refunds_of(booking)
    # Stripe makes the refund and its event arrives while our own transaction has not recorded the answer yet.
    fake_stripe.client().v1.refunds.create(
        params={
            "payment_intent": payment_of(booking).payment_intent_id,
            "amount": 12000,
            "metadata": {"refund_id": str(refund.id)},
        }
    )
    [event_id] = events_of(fake_stripe, "charge.refunded")
    assert post_event(client, fake_stripe, event_id).json["outcome"] == "refunds_reconciled"

    [refund] = refunds_of(booking)
    assert refund.status == RefundState.SUCCEEDED.value
    assert payment_of(booking).refunded_pence == 12000
    assert reload(booking).payment_status == PaymentStatus.REFUNDED.value
    assert services.retry_refunds(real_clock.now)["succeeded"] == 0


def test_a_refund_made_in_the_stripe_dashboard_is_recorded(stripe_app, client, fake_stripe, real_clock):
    booking = confirmed_card_booking(client, fake_stripe, real_clock.now, price_pence=5000)
    fake_stripe.client().v1.refunds.create(
        params={"payment_intent": payment_of(booking).payment_intent_id, "amount": 2000}
    )
    [event_id] = events_of(fake_stripe, "charge.refunded")

    post_event(client, fake_stripe, event_id)

    [refund] = refunds_of(booking)
    assert (refund.is_external, refund.amount_pence, refund.status) == (True, 2000, RefundState.SUCCEEDED.value)
    assert reload(booking).payment_status == PaymentStatus.PARTIALLY_REFUNDED.value
