"""Invoices for bookings paid by invoice: issued with the confirmation, marked paid by an admin.

Numbers come from `next_number` (a counter row updated under its write lock),
so they never repeat or skip, however many processes confirm at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bookings.accounts.models import User
from bookings.booking.models import Booking, PaymentMethod, PaymentStatus
from bookings.booking.services import locked_booking
from bookings.core import audit
from bookings.core.db import in_write_transaction, transactional
from bookings.core.errors import Conflict, Forbidden
from bookings.extensions import db
from bookings.payments.models import Document, DocumentKind, Payment, PaymentProvider, PaymentState
from bookings.payments.services.common import issue_document, latest_payment, order_for


def issue_invoice_for(booking: Booking, now: datetime) -> Document | None:
    """Issue the invoice of a confirmed invoice booking, once. Runs inside the confirming transaction."""
    if booking.payment_method != PaymentMethod.INVOICE.value or not booking.is_confirmed:
        return None
    existing = db.session.scalar(
        select(Document).where(Document.booking_id == booking.id, Document.kind == DocumentKind.INVOICE.value)
    )
    if existing is not None:
        return existing
    summary = order_for(booking)
    payment = Payment(
        booking_id=booking.id,
        provider=PaymentProvider.INVOICE.value,
        status=PaymentState.PENDING.value,
        amount_pence=summary.total_pence,
        currency=summary.currency,
        created_at=now,
    )
    db.session.add(payment)
    db.session.flush()
    return issue_document(DocumentKind.INVOICE, booking, summary, now, payment=payment)


def owed_on_invoice(booking: Booking) -> int:
    """The invoice's total less the booking's credit notes (pence, never below nothing)."""
    gross = dict(
        db.session.execute(
            select(Document.kind, func.sum(Document.gross_pence))
            .where(Document.booking_id == booking.id)
            .group_by(Document.kind)
        ).all()
    )
    return max(0, (gross.get(DocumentKind.INVOICE.value) or 0) - (gross.get(DocumentKind.CREDIT_NOTE.value) or 0))


def on_invoice_credited(booking: Booking, now: datetime) -> None:
    """After a credit note on an unpaid invoice: the amount expected falls to what is still owed.

    When every place is cancelled nothing is owed: the invoice's payment is
    cancelled and the booking's payment status becomes `credited`. A paid
    invoice is left as it is (money back is the finance team's, as docs/payments.md says).
    """
    payment = latest_payment(booking.id, PaymentProvider.INVOICE, PaymentState.PENDING)
    if payment is None or booking.payment_status != PaymentStatus.INVOICED.value:
        return
    owed = 0 if booking.is_cancelled else owed_on_invoice(booking)
    payment.amount_pence = owed
    if owed == 0:
        payment.status = PaymentState.CANCELLED.value
        booking.payment_status = PaymentStatus.CREDITED.value
        audit.record(
            "payment.invoice_cancelled",
            "booking",
            booking.reference,
            actor_id=None,
            event_id=booking.event_id,
            at=now,
            payment_id=payment.id,
        )


def confirmation_attachments(booking: Booking, kind: str) -> list:
    """Attachment hook, called inside the confirming transaction: the moment an invoice booking is confirmed
    is the moment its invoice is issued (the invoice itself is linked from the booking page)."""
    if kind == "confirmed" and in_write_transaction():
        from bookings.core.clock import utcnow

        issue_invoice_for(booking, booking.confirmed_at or utcnow())
    return []


@transactional
def mark_invoice_paid(reference: str, actor: User, now: datetime) -> Booking:
    """Admin: record that an invoice booking has been paid. Raises Forbidden, NotFound, Conflict."""
    if actor is None or not actor.is_admin:
        raise Forbidden("Only an admin can mark an invoice paid.")
    booking = locked_booking(reference, actor)
    if booking.payment_method != PaymentMethod.INVOICE.value:
        raise Conflict("This booking is not paid by invoice.", code="not_invoice")
    if booking.payment_status == PaymentStatus.PAID.value:
        return booking
    if booking.payment_status != PaymentStatus.INVOICED.value:
        raise Conflict("This invoice cannot be marked paid now.", code="not_invoiced")
    issue_invoice_for(booking, now)
    payment = latest_payment(booking.id, PaymentProvider.INVOICE)
    payment.amount_pence = owed_on_invoice(booking)  # what the credit notes left (kept in step by on_invoice_credited)
    payment.status = PaymentState.SUCCEEDED.value
    payment.paid_at = now
    booking.payment_status = PaymentStatus.PAID.value
    audit.record(
        "payment.invoice_paid",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=booking.event_id,
        at=now,
        payment_id=payment.id,
        amount_pence=payment.amount_pence,
    )
    return booking
