"""Housekeeping for the periodic sweep: expire checkouts that must not be paid, give back unused discounts."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from bookings.booking.models import Booking, BookingStatus
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.payments import stripe_api
from bookings.payments.models import DiscountRedemption, Payment, PaymentProvider, PaymentState
from bookings.payments.services.common import release_discount


@transactional
def _flag_dead_checkouts() -> None:
    """Open sessions whose booking no longer waits for them (cancelled, confirmed another way)."""
    for payment in db.session.scalars(
        select(Payment)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(
            Payment.provider == PaymentProvider.STRIPE.value,
            Payment.status == PaymentState.PENDING.value,
            Payment.checkout_session_id.is_not(None),
            Booking.status.in_([BookingStatus.CANCELLED.value, BookingStatus.CONFIRMED.value]),
        )
    ):
        payment.status = PaymentState.SUPERSEDED.value
        payment.is_expiry_due = True


@transactional
def _release_unused_discounts(now: datetime) -> int:
    rows = db.session.scalars(
        select(DiscountRedemption)
        .join(Booking, Booking.id == DiscountRedemption.booking_id)
        .where(
            DiscountRedemption.released_at.is_(None),
            Booking.confirmed_at.is_(None),
            Booking.status.in_([BookingStatus.CANCELLED.value, BookingStatus.EXPIRED.value]),
        )
    ).all()
    for row in rows:
        booking = db.session.get(Booking, row.booking_id)
        release_discount(booking, now)
    return len(rows)


@transactional
def _expiry_done(payment_id: int) -> None:
    db.session.get(Payment, payment_id).is_expiry_due = False


def expire_checkouts(now: datetime) -> dict[str, int]:
    """Expire at Stripe the sessions that must no longer be paid, and give back unused discount uses.

    A session that gets paid before we expire it is refunded by the webhook (rule 3). Idempotent.
    """
    _flag_dead_checkouts()
    counts = {"checkouts_expired": 0, "discounts_released": _release_unused_discounts(now)}
    if not stripe_api.is_configured():
        return counts
    due = db.session.execute(
        select(Payment.id, Payment.checkout_session_id).where(Payment.is_expiry_due.is_(True))
    ).all()
    db.session.commit()
    for payment_id, session_id in due:
        try:
            session = stripe_api.retrieve_checkout_session(session_id)
            if session.get("status") == "open":
                stripe_api.expire_checkout_session(session_id)
                counts["checkouts_expired"] += 1
        except stripe_api.StripeFailure as error:
            current_app.logger.warning("Could not expire checkout %s: %s", session_id, error)
            continue
        _expiry_done(payment_id)
    return counts
