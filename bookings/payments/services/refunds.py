"""Refunds: decided inside the transaction that cancels places, sent to Stripe after it commits.

A refund row is written with the cancellation (through the booking area's
cancel hook); the Stripe call happens afterwards, never with a transaction
open. A failed call is retried by the sweep with a growing delay and shown to
admins; after MAX_REFUND_ATTEMPTS (or an error that cannot succeed) it is
marked failed for an admin to settle by hand. Invoice bookings get a credit
note instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from bookings.booking.models import Attendee, Booking, PaymentMethod
from bookings.core import audit
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.payments import stripe_api
from bookings.payments.models import DocumentKind, Payment, PaymentProvider, PaymentState, Refund, RefundState
from bookings.payments.pricing import Discount, summarise
from bookings.payments.services.common import (
    create_refund,
    discount_for,
    issue_document,
    latest_payment,
    priced_places,
    take_new_refund_ids,
)
from bookings.payments.services.invoices import on_invoice_credited
from bookings.payments.services.webhooks import mark_refund_succeeded

MAX_REFUND_ATTEMPTS = 6
RETRY_BASE = timedelta(minutes=2)


def _paid_attendees(booking: Booking) -> list[Attendee]:
    """Every place the payment covered: those active now and those cancelled since it was made."""
    return list(booking.attendees)


def on_booking_cancelled(booking: Booking, cancelled: list[Attendee], actor_id: int | None, now: datetime) -> None:
    """Cancel hook: a refund for card bookings (whole or per place), a credit note for invoice bookings."""
    if booking.payment_method == PaymentMethod.CARD.value:
        payment = latest_payment(booking.id, PaymentProvider.STRIPE, PaymentState.SUCCEEDED)
        if payment is None:
            return
        if booking.is_cancelled:
            amount = payment.amount_pence  # create_refund caps it at what is left
        else:
            whole = summarise(
                priced_places(_paid_attendees(booking)),
                currency=booking.currency,
                prices_include_vat=booking.event.prices_include_vat,
            )
            part = summarise(
                priced_places(cancelled), currency=booking.currency, prices_include_vat=booking.event.prices_include_vat
            )
            amount = (payment.amount_pence * part.total_pence + whole.total_pence // 2) // max(1, whole.total_pence)
        create_refund(payment, amount, "cancelled", now, actor_id)
    elif booking.payment_method == PaymentMethod.INVOICE.value:
        discount = discount_for(booking)
        if discount is not None and discount.amount_pence is not None:
            # A fixed discount is shared over the places in proportion, as on the invoice.
            whole = summarise(
                priced_places(_paid_attendees(booking)),
                currency=booking.currency,
                prices_include_vat=booking.event.prices_include_vat,
            ).total_pence
            part = summarise(
                priced_places(cancelled), currency=booking.currency, prices_include_vat=booking.event.prices_include_vat
            ).total_pence
            discount = Discount(
                discount.code, amount_pence=(discount.amount_pence * part + whole // 2) // max(1, whole)
            )
        credit = summarise(
            priced_places(cancelled),
            currency=booking.currency,
            prices_include_vat=booking.event.prices_include_vat,
            discount=discount,
        )
        if credit.total_pence > 0:
            issue_document(DocumentKind.CREDIT_NOTE, booking, credit, now, actor_id=actor_id)
        on_invoice_credited(booking, now)


def _backoff(attempts: int) -> timedelta:
    return RETRY_BASE * (2 ** max(0, attempts - 1))


def send_refund(refund_id: int, now: datetime) -> str:
    """Ask Stripe for one pending refund and record the answer. Returns "succeeded", "retry", "failed" or "skipped"."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != RefundState.PENDING.value:
        db.session.commit()
        return "skipped"
    intent = refund.payment.payment_intent_id
    key = f"refund-{refund.id}-attempt-{refund.attempts}"
    amount, booking_reference = refund.amount_pence, refund.payment.booking.reference
    db.session.commit()  # no transaction stays open across the network call
    try:
        if not intent:
            raise stripe_api.StripeFailure("The payment has no Stripe PaymentIntent to refund.", is_retryable=False)
        made = stripe_api.create_refund(
            payment_intent=intent,
            amount_pence=amount,
            metadata={"refund_id": str(refund_id), "booking_reference": booking_reference},
            idempotency_key=key,
        )
    except (stripe_api.StripeFailure, stripe_api.StripeUnavailable) as error:
        current_app.logger.warning("Refund %s for %s failed: %s", refund_id, booking_reference, error)
        return _record_failure(refund_id, str(error), getattr(error, "is_retryable", False), now)
    return _record_success(refund_id, made.get("id"), now)


@transactional
def _record_success(refund_id: int, provider_refund_id: str | None, now: datetime) -> str:
    refund = db.session.get(Refund, refund_id)
    refund.attempts += 1
    mark_refund_succeeded(refund, provider_refund_id, now)
    return "succeeded"


@transactional
def _record_failure(refund_id: int, message: str, retryable: bool, now: datetime) -> str:
    refund = db.session.get(Refund, refund_id)
    if refund.status != RefundState.PENDING.value:
        return "skipped"
    refund.attempts += 1
    refund.last_error = message[:500]
    payment = refund.payment
    payment.needs_attention = True
    booking = payment.booking
    if retryable and refund.attempts < MAX_REFUND_ATTEMPTS:
        refund.next_attempt_at = now + _backoff(refund.attempts)
        outcome = "retry"
    else:
        refund.status = RefundState.FAILED.value
        refund.next_attempt_at = None
        outcome = "failed"
    payment.attention_reason = (
        f"Refund of {refund.amount_pence}p {'failed' if outcome == 'failed' else 'not made yet'}: {message}"[:500]
    )
    audit.record(
        "refund.attempt_failed",
        "booking",
        booking.reference,
        actor_id=None,
        event_id=booking.event_id,
        at=now,
        refund_id=refund.id,
        attempts=refund.attempts,
        error=message[:500],
        gave_up=outcome == "failed",
    )
    return outcome


def retry_refunds(now: datetime) -> dict[str, int]:
    """Sweep: send every pending refund that is due. Safe on several hosts (same attempt, same idempotency key)."""
    due = db.session.scalars(
        select(Refund.id)
        .where(
            Refund.status == RefundState.PENDING.value,
            or_(Refund.next_attempt_at.is_(None), Refund.next_attempt_at <= now),
        )
        .order_by(Refund.id)
    ).all()
    db.session.commit()
    counts = {"succeeded": 0, "retry": 0, "failed": 0, "skipped": 0}
    for refund_id in due:
        counts[send_refund(refund_id, now)] += 1
    return counts


def send_new_refunds(now: datetime) -> None:
    """After a transaction that wrote refunds has committed: send them at once (the sweep retries any that fail)."""
    for refund_id in take_new_refund_ids():
        send_refund(refund_id, now)


def send_pending_refunds_for(reference: str, now: datetime) -> int:
    """Send a booking's due refunds now (call after cancel_booking commits); returns how many succeeded."""
    ids = db.session.scalars(
        select(Refund.id)
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(Booking.reference == reference.upper(), Refund.status == RefundState.PENDING.value)
    ).all()
    db.session.commit()
    return sum(1 for refund_id in ids if send_refund(refund_id, now) == "succeeded")
