"""Stripe events (rule 3): each processed at most once, in any order, however often delivered.

The insert of the event id (unique) is the once-only guarantee; it commits
with the changes the event causes. Handlers only move a payment forward
(pending -> processing -> succeeded; an expiry or failure never undoes a
payment), so the order of delivery does not matter. A payment that arrives
for a booking that can no longer take it (hold expired and places gone,
booking cancelled or already paid) is refunded automatically, the booker is
told and the payment is flagged for admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings import capacity
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.booking.services import mark_confirmed, still_held
from bookings.core import audit
from bookings.core.db import transactional
from bookings.extensions import db
from bookings.notifications.outbox import queue_email
from bookings.payments.models import (
    DocumentKind,
    Payment,
    PaymentProvider,
    PaymentState,
    ProcessedWebhookEvent,
    Refund,
    RefundState,
)
from bookings.payments.services.common import (
    NEW_REFUNDS_KEY,
    create_refund,
    issue_document,
    order_for,
    refresh_refund_totals,
    release_hold,
    restore_discount,
    take_new_refund_ids,
)

HANDLED = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
)


def handle_stripe_event(event: dict[str, Any], now: datetime) -> str:
    """Process one verified event; returns what happened ("duplicate" when seen before)."""
    try:
        outcome = _process(event, now)
    except IntegrityError:
        db.session.rollback()
        if _seen(event["id"]):  # a concurrent delivery of the same event won the insert
            return "duplicate"
        raise
    refund_ids = take_new_refund_ids()
    if refund_ids:
        from bookings.payments.services.refunds import send_refund

        for refund_id in refund_ids:
            send_refund(refund_id, now)
    return outcome


def _seen(event_id: str) -> bool:
    seen = db.session.scalar(select(ProcessedWebhookEvent.id).where(ProcessedWebhookEvent.event_id == event_id))
    db.session.commit()
    return seen is not None


@transactional
def _process(event: dict[str, Any], now: datetime) -> str:
    db.session.info[NEW_REFUNDS_KEY] = []  # a retried attempt starts afresh
    if db.session.scalar(select(ProcessedWebhookEvent.id).where(ProcessedWebhookEvent.event_id == event["id"])):
        return "duplicate"
    row = ProcessedWebhookEvent(event_id=event["id"], event_type=event.get("type", ""), processed_at=now)
    db.session.add(row)
    db.session.flush()  # a concurrent twin fails here or at commit: nothing is done twice
    obj = (event.get("data") or {}).get("object") or {}
    kind = event.get("type")
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        outcome = _on_session_paid(obj, now, async_event=kind.endswith("succeeded"))
    elif kind == "checkout.session.async_payment_failed":
        outcome = _on_session_failed(obj, now)
    elif kind == "checkout.session.expired":
        outcome = _on_session_expired(obj, now)
    elif kind == "charge.refunded":
        outcome = _on_charge_refunded(obj, now)
    else:
        outcome = "ignored"
    row.outcome = outcome
    return outcome


def _locked_payment(payment_id: int) -> Payment:
    """The payment, re-read after its event is locked (lock order: event, booking, payment)."""
    event_id = db.session.scalar(
        select(Booking.event_id).join(Payment, Payment.booking_id == Booking.id).where(Payment.id == payment_id)
    )
    capacity.lock_event(event_id)
    payment = db.session.scalars(
        select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    ).one()
    db.session.refresh(payment.booking)
    return payment


def _payment_for_session(session: dict[str, Any]) -> Payment | None:
    payment_id = db.session.scalar(select(Payment.id).where(Payment.checkout_session_id == session.get("id")))
    if payment_id is None:
        # The session may have been created while the row recording it was lost: match on our metadata.
        metadata = session.get("metadata") or {}
        try:
            candidate = db.session.get(Payment, int(metadata.get("payment_id", "")))
        except ValueError:
            candidate = None
        if candidate is None or candidate.booking.reference != metadata.get("booking_reference"):
            return None
        if candidate.checkout_session_id not in (None, session.get("id")):
            return None
        payment_id = candidate.id
    payment = _locked_payment(payment_id)
    if payment.checkout_session_id is None:
        payment.checkout_session_id = session.get("id")
    return payment


def _unknown(kind: str, object_id: str | None, now: datetime) -> str:
    audit.record(f"payment.unknown_{kind}", "stripe", object_id or "?", actor_id=None, at=now)
    return f"unknown_{kind}"


def _on_session_paid(session: dict[str, Any], now: datetime, *, async_event: bool) -> str:
    payment = _payment_for_session(session)
    if payment is None:
        return _unknown("session", session.get("id"), now)
    if payment.status == PaymentState.SUCCEEDED.value:
        return "already_paid"
    if not async_event and session.get("payment_status") not in ("paid", "no_payment_required"):
        if payment.status in (PaymentState.PENDING.value, PaymentState.SUPERSEDED.value):
            payment.status = PaymentState.PROCESSING.value
        return "processing"
    return settle_payment(payment, session, now)


def settle_payment(payment: Payment, session: dict[str, Any], now: datetime) -> str:
    """Money has arrived: confirm the booking if it can still take it, otherwise refund it (rule 3)."""
    booking = payment.booking
    planned_pence = payment.amount_pence  # what the checkout was opened for
    payment.status = PaymentState.SUCCEEDED.value
    payment.paid_at = now
    payment.is_expiry_due = False
    payment.payment_intent_id = session.get("payment_intent") or payment.payment_intent_id
    if session.get("amount_total") is not None:
        payment.amount_pence = int(session["amount_total"])
    audit.record(
        "payment.succeeded",
        "booking",
        booking.reference,
        actor_id=None,
        event_id=booking.event_id,
        at=now,
        payment_id=payment.id,
        amount_pence=payment.amount_pence,
    )
    awaiting = booking.is_held or booking.status == BookingStatus.EXPIRED.value
    if booking.is_held and planned_pence != order_for(booking).total_pence:
        # A checkout opened at an older price (a discount code came after it): the places stay held
        # for the checkout at the current price, and this money goes back. Only while the booking is
        # held: once it has expired its discount is given back, and a late payment is judged by places.
        reason, why = "price_changed", "the price of the booking changed after that payment page was opened"
    elif awaiting and still_held(booking, now):
        for other in db.session.scalars(
            select(Payment).where(
                Payment.booking_id == booking.id, Payment.id != payment.id, Payment.status == PaymentState.PENDING.value
            )
        ):
            other.status = PaymentState.SUPERSEDED.value
            other.is_expiry_due = bool(other.checkout_session_id)
        if planned_pence != order_for(booking).total_pence:
            restore_discount(booking)  # its expiry gave the code back; the payment was made with it
        mark_confirmed(booking, method=PaymentMethod.CARD, actor_id=None, now=now)
        issue_document(DocumentKind.RECEIPT, booking, order_for(booking), now, payment=payment)
        return "confirmed"
    elif awaiting:
        reason, why = "sold_out", "the time to pay ran out and the places have since been taken"
        if booking.is_held:
            booking.status = BookingStatus.EXPIRED.value
            booking.expired_at = now
    elif booking.is_confirmed:
        reason, why = "already_confirmed", "the booking had already been confirmed"
    else:
        reason, why = "booking_cancelled", "the booking had been cancelled"
    create_refund(payment, payment.amount_pence, reason, now, actor_id=None)
    payment.needs_attention = True
    payment.attention_reason = f"Paid after {why}; refunded automatically."
    audit.record(
        "payment.refunded_automatically",
        "booking",
        booking.reference,
        actor_id=None,
        event_id=booking.event_id,
        at=now,
        payment_id=payment.id,
        reason=reason,
    )
    if booking.booker is not None:
        queue_email(
            "payment_refunded_automatically",
            to=booking.booker.email,
            subject=f"Your payment for {booking.event.title} is being refunded ({booking.reference})",
            now=now,
            booking_reference=booking.reference,
            event_id=booking.event_id,
            booking=booking,
            event=booking.event,
            payment=payment,
            why=why,
            still_held=booking.is_hold_live(now),
        )
    return f"refunded_{reason}"


def _on_session_failed(session: dict[str, Any], now: datetime) -> str:
    payment = _payment_for_session(session)
    if payment is None:
        return _unknown("session", session.get("id"), now)
    if payment.status == PaymentState.SUCCEEDED.value:
        return "already_paid"
    payment.status = PaymentState.FAILED.value
    booking = payment.booking
    audit.record(
        "payment.failed",
        "booking",
        booking.reference,
        actor_id=None,
        event_id=booking.event_id,
        at=now,
        payment_id=payment.id,
    )
    if booking.is_held and not _other_open_payment(payment):
        release_hold(booking, now, "booking.payment_failed")
        if booking.booker is not None:
            queue_email(
                "payment_failed",
                to=booking.booker.email,
                subject=f"Your payment for {booking.event.title} did not go through ({booking.reference})",
                now=now,
                booking_reference=booking.reference,
                event_id=booking.event_id,
                booking=booking,
                event=booking.event,
            )
    return "failed"


def _other_open_payment(payment: Payment) -> bool:
    return bool(
        db.session.scalar(
            select(Payment.id).where(
                Payment.booking_id == payment.booking_id,
                Payment.id != payment.id,
                Payment.provider == PaymentProvider.STRIPE.value,
                Payment.status.in_([PaymentState.PENDING.value, PaymentState.PROCESSING.value]),
            )
        )
    )


def _on_session_expired(session: dict[str, Any], now: datetime) -> str:
    payment = _payment_for_session(session)
    if payment is None:
        return _unknown("session", session.get("id"), now)
    payment.is_expiry_due = False
    if payment.status == PaymentState.SUCCEEDED.value:
        return "already_paid"
    if payment.status == PaymentState.SUPERSEDED.value:
        return "superseded_session_expired"
    payment.status = PaymentState.EXPIRED.value
    booking = payment.booking
    if booking.is_held and not _other_open_payment(payment):
        release_hold(booking, now, "booking.checkout_expired")
        return "hold_released"
    return "expired"


def _on_charge_refunded(charge: dict[str, Any], now: datetime) -> str:
    intent = charge.get("payment_intent")
    payment_id = db.session.scalar(select(Payment.id).where(Payment.payment_intent_id == intent)) if intent else None
    if payment_id is None:
        return _unknown("charge", charge.get("id"), now)
    payment = _locked_payment(payment_id)
    ours = {r.id: r for r in payment.refunds}
    by_provider = {r.provider_refund_id: r for r in payment.refunds if r.provider_refund_id}
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    for made in refunds:
        if made.get("status") not in (None, "succeeded", "pending"):
            continue
        refund = by_provider.get(made.get("id"))
        if refund is None:
            try:
                refund = ours.get(int((made.get("metadata") or {}).get("refund_id", "")))
            except ValueError:
                refund = None
        if refund is not None:
            mark_refund_succeeded(refund, made.get("id"), now)
    accounted = sum(r.amount_pence for r in payment.refunds if r.status != RefundState.FAILED.value)
    extra = int(charge.get("amount_refunded") or 0) - accounted
    if extra > 0:  # refunded outside Bookings (the Stripe dashboard): record it so the totals are true
        refund = Refund(
            payment_id=payment.id,
            booking_id=payment.booking_id,
            amount_pence=extra,
            status=RefundState.SUCCEEDED.value,
            reason="external",
            is_external=True,
            created_at=now,
            succeeded_at=now,
        )
        payment.refunds.append(refund)
        audit.record(
            "refund.external",
            "booking",
            payment.booking.reference,
            actor_id=None,
            event_id=payment.booking.event_id,
            at=now,
            amount_pence=extra,
        )
    refresh_refund_totals(payment)
    return "refunds_reconciled"


def mark_refund_succeeded(refund: Refund, provider_refund_id: str | None, now: datetime) -> bool:
    """Record a refund as done (once); True if this call changed it."""
    if refund.status == RefundState.SUCCEEDED.value:
        return False
    refund.status = RefundState.SUCCEEDED.value
    refund.provider_refund_id = provider_refund_id or refund.provider_refund_id
    refund.succeeded_at = now
    refund.next_attempt_at = None
    payment = refund.payment
    booking = payment.booking
    refresh_refund_totals(payment)
    audit.record(
        "refund.succeeded",
        "booking",
        booking.reference,
        actor_id=None,
        event_id=booking.event_id,
        at=now,
        refund_id=refund.id,
        amount_pence=refund.amount_pence,
    )
    if booking.booker is not None:
        queue_email(
            "refund_issued",
            to=booking.booker.email,
            subject=f"Refund for {booking.event.title} ({booking.reference})",
            now=now,
            booking_reference=booking.reference,
            event_id=booking.event_id,
            booking=booking,
            event=booking.event,
            refund=refund,
        )
    return True
