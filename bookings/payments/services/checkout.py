"""Card payment through Stripe Checkout: one open session per booking, the hold lasting as long as it.

The Checkout Session is created outside any database transaction: a short
transaction prepares the Payment row (and extends the hold so it ends no
earlier than the session, >= 30 minutes as Stripe requires), the Stripe call
runs with an idempotency key stored on that row, and a second short
transaction records the session. A repeated call finds the open session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from bookings.accounts.models import User
from bookings.booking.models import Booking, BookingStatus
from bookings.booking.services import ensure_live_or_refit, locked_booking
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, ValidationError
from bookings.extensions import db
from bookings.payments import stripe_api
from bookings.payments.models import Payment, PaymentProvider, PaymentState
from bookings.payments.pricing import OrderSummary
from bookings.payments.services.common import PaymentUnavailable, order_for

# Stripe refuses an expires_at less than 30 minutes ahead; one minute more covers the time the call takes.
CHECKOUT_MINUTES = 31
# An open session this close to its end is not handed out again: the booker could not finish in time.
REUSE_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class _Plan:
    payment_id: int
    url: str = ""
    params: dict | None = None
    idempotency_key: str = ""


def line_items(summary: OrderSummary, event_title: str) -> list[dict]:
    """Stripe line items adding up exactly to the total (a line that does not divide goes as one item)."""
    items = []
    for line in summary.lines:
        if line.gross_pence <= 0:
            continue
        name = f"{event_title}: {line.description}"
        if line.gross_pence % line.quantity == 0:
            unit, quantity = line.gross_pence // line.quantity, line.quantity
        else:
            unit, quantity, name = line.gross_pence, 1, f"{name} ({line.quantity} places)"
        items.append(
            {
                "price_data": {
                    "currency": summary.currency.lower(),
                    "unit_amount": unit,
                    "product_data": {"name": name[:250]},
                },
                "quantity": quantity,
            }
        )
    return items


def _open_payment(booking: Booking, now: datetime) -> Payment | None:
    return db.session.scalars(
        select(Payment)
        .where(
            Payment.booking_id == booking.id,
            Payment.provider == PaymentProvider.STRIPE.value,
            Payment.status == PaymentState.PENDING.value,
        )
        .order_by(Payment.id.desc())
        .limit(1)
    ).first()


@transactional
def _prepare(reference: str, actor: User, now: datetime, success_url: str, cancel_url: str) -> _Plan:
    booking = locked_booking(reference, actor)
    if booking.is_confirmed:
        raise Conflict("This booking is already confirmed.", code="already_confirmed")
    if not booking.is_held and booking.status != BookingStatus.EXPIRED.value:
        raise Conflict("This booking can no longer be paid for.", code="not_held")
    if not booking.is_details_complete:
        raise Conflict("Give the attendee details first.", code="details_missing")
    summary = order_for(booking)
    if summary.total_pence <= 0:
        raise ValidationError("This booking is free: no payment is needed.", field="payment")
    ensure_live_or_refit(booking, now)
    existing = _open_payment(booking, now)
    if existing is not None:
        still_good = existing.expires_at is not None and existing.expires_at - REUSE_MARGIN > now
        if still_good and existing.amount_pence == summary.total_pence:
            return _Plan(existing.id, existing.checkout_url, existing.checkout_params, existing.idempotency_key)
        existing.status = PaymentState.SUPERSEDED.value
        existing.is_expiry_due = bool(existing.checkout_session_id)
    # The hold is the places: it must last at least as long as the session that pays for them.
    ends = now + timedelta(minutes=CHECKOUT_MINUTES)
    if booking.hold_expires_at is None or booking.hold_expires_at < ends:
        booking.hold_expires_at = ends
    payment = Payment(
        booking_id=booking.id,
        provider=PaymentProvider.STRIPE.value,
        status=PaymentState.PENDING.value,
        amount_pence=summary.total_pence,
        currency=summary.currency,
        expires_at=booking.hold_expires_at,
        created_at=now,
    )
    db.session.add(payment)
    db.session.flush()
    payment.idempotency_key = f"checkout-{booking.reference}-{payment.id}"
    metadata = {"booking_reference": booking.reference, "payment_id": str(payment.id)}
    payment.checkout_params = {
        "mode": "payment",
        "line_items": line_items(summary, booking.event.title),
        "client_reference_id": booking.reference,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "customer_email": booking.booker.email if booking.booker else None,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(booking.hold_expires_at.timestamp()),
    }
    if payment.checkout_params["customer_email"] is None:
        del payment.checkout_params["customer_email"]
    audit.record(
        "payment.checkout_started",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        payment_id=payment.id,
        amount_pence=payment.amount_pence,
        hold_expires_at=booking.hold_expires_at.isoformat(),
    )
    return _Plan(payment.id, "", payment.checkout_params, payment.idempotency_key)


@transactional
def _record_session(payment_id: int, session: dict) -> str:
    payment = db.session.get(Payment, payment_id)
    payment.checkout_session_id = session["id"]
    payment.checkout_url = session["url"]
    return payment.checkout_url


def start_checkout(*, reference: str, actor: User, now: datetime, success_url: str, cancel_url: str) -> str:
    """The Stripe Checkout URL for a held booking; a second call returns the same open session.

    Raises NotFound, Conflict (not held / details missing / already confirmed), HoldExpired,
    ValidationError (free), PaymentUnavailable (Stripe not set up or not answering).
    """
    if not stripe_api.is_configured():
        raise PaymentUnavailable("Card payment is not available. Choose another way to pay.")
    plan = _prepare(reference, actor, now, success_url, cancel_url)
    if plan.url:
        return plan.url
    try:
        session = stripe_api.create_checkout_session(plan.params, idempotency_key=plan.idempotency_key)
    except stripe_api.StripeFailure as error:
        current_app.logger.warning("Stripe Checkout failed for %s: %s", reference, error)
        raise PaymentUnavailable("Card payment is not available at the moment. Try again shortly.") from error
    return _record_session(plan.payment_id, session)
