"""Read-side queries: what admins must look at, a booking's payments and documents."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from bookings.booking.models import Booking
from bookings.extensions import db
from bookings.payments.models import Document, Payment, Refund, RefundState
from bookings.payments.pricing import OrderSummary
from bookings.payments.services.common import order_for


def payments_needing_attention() -> list[Payment]:
    """Payments an admin should look at: paid too late and refunded, refunds failing or given up."""
    failing = select(Refund.payment_id).where(Refund.status != RefundState.SUCCEEDED.value, Refund.last_error != "")
    return list(
        db.session.scalars(
            select(Payment)
            .where(or_(Payment.needs_attention.is_(True), Payment.id.in_(failing)))
            .options(selectinload(Payment.booking).selectinload(Booking.event), selectinload(Payment.refunds))
            .order_by(Payment.id.desc())
        )
    )


@dataclass(frozen=True)
class PaymentOverview:
    booking: Booking
    order: OrderSummary
    payments: list[Payment]
    documents: list[Document]


def payment_overview(booking: Booking) -> PaymentOverview:
    payments = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.booking_id == booking.id)
            .options(selectinload(Payment.refunds))
            .order_by(Payment.id)
        )
    )
    documents = list(
        db.session.scalars(
            select(Document).where(Document.booking_id == booking.id).order_by(Document.issued_at, Document.id)
        )
    )
    return PaymentOverview(booking=booking, order=order_for(booking), payments=payments, documents=documents)


def find_document(booking: Booking, kind: str, number: int) -> Document | None:
    return db.session.scalar(
        select(Document).where(Document.booking_id == booking.id, Document.kind == kind, Document.number == number)
    )
