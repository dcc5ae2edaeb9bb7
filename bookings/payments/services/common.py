"""Shared pieces of the payment services: the order of a booking, loading payments, numbering documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentStatus
from bookings.core import audit
from bookings.core.db import in_write_transaction
from bookings.core.errors import DomainError
from bookings.extensions import db
from bookings.payments.models import (
    DiscountRedemption,
    Document,
    DocumentCounter,
    DocumentKind,
    Payment,
    PaymentProvider,
    PaymentState,
    Refund,
    RefundState,
)
from bookings.payments.pricing import Discount, OrderSummary, PricedPlace, summarise

NEW_REFUNDS_KEY = "payments_new_refunds"


class PaymentUnavailable(DomainError):
    code = "payment_unavailable"
    status = 503


def priced_places(attendees: list[Attendee]) -> list[PricedPlace]:
    return [PricedPlace(a.ticket_type.name, a.price_pence, a.ticket_type.vat_rate_bp) for a in attendees]


def live_redemption(booking_id: int) -> DiscountRedemption | None:
    return db.session.scalar(
        select(DiscountRedemption).where(
            DiscountRedemption.booking_id == booking_id, DiscountRedemption.released_at.is_(None)
        )
    )


def discount_for(booking: Booking) -> Discount | None:
    redemption = live_redemption(booking.id)
    if redemption is None:
        return None
    code = redemption.discount_code
    return Discount(code=code.code, percent=code.percent, amount_pence=code.amount_pence)


def order_for(booking: Booking, attendees: list[Attendee] | None = None) -> OrderSummary:
    """What the booker pays for the booking's active places (or `attendees`), discount and VAT included."""
    return summarise(
        priced_places(booking.active_attendees if attendees is None else attendees),
        currency=booking.currency,
        prices_include_vat=booking.event.prices_include_vat,
        discount=discount_for(booking),
    )


def latest_payment(booking_id: int, provider: PaymentProvider, *states: PaymentState) -> Payment | None:
    query = select(Payment).where(Payment.booking_id == booking_id, Payment.provider == provider.value)
    if states:
        query = query.where(Payment.status.in_([s.value for s in states]))
    return db.session.scalars(query.order_by(Payment.id.desc()).limit(1)).first()


def next_number(kind: DocumentKind) -> int:
    """The next number for `kind`: the counter row is updated under its write lock, so numbers never repeat
    or skip (a rolled-back transaction rolls its number back with it)."""
    if not in_write_transaction():
        raise RuntimeError("next_number() must run inside a write transaction")
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(DocumentCounter).values(kind=kind.value, last_number=0).on_conflict_do_nothing(index_elements=["kind"])
    )
    # UPDATE takes the row lock (PostgreSQL) inside the write transaction (SQLite) until commit.
    return db.session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.kind == kind.value)
        .values(last_number=DocumentCounter.last_number + 1)
        .returning(DocumentCounter.last_number)
    ).scalar_one()


def issue_document(
    kind: DocumentKind,
    booking: Booking,
    summary: OrderSummary,
    now: datetime,
    *,
    payment: Payment | None = None,
    actor_id: int | None = None,
) -> Document:
    document = Document(
        kind=kind.value,
        number=next_number(kind),
        booking_id=booking.id,
        payment_id=payment.id if payment else None,
        net_pence=summary.net_pence,
        vat_pence=summary.vat_pence,
        gross_pence=summary.total_pence,
        currency=summary.currency,
        lines=[line.to_dict() for line in summary.lines],
        issued_at=now,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        f"{kind.value}.issued",
        "booking",
        booking.reference,
        actor_id=actor_id,
        event_id=booking.event_id,
        at=now,
        number=document.display_number,
        gross_pence=document.gross_pence,
    )
    return document


def refresh_refund_totals(payment: Payment) -> None:
    """Payment and booking payment status follow the refunds that have gone through."""
    refunded = sum(r.amount_pence for r in payment.refunds if r.status == RefundState.SUCCEEDED.value)
    payment.refunded_pence = refunded
    booking = payment.booking
    if payment.provider != PaymentProvider.STRIPE.value or payment.status != PaymentState.SUCCEEDED.value:
        return
    if booking.payment_method != "card":
        return
    if refunded >= payment.amount_pence > 0:
        booking.payment_status = PaymentStatus.REFUNDED.value
    elif refunded > 0:
        booking.payment_status = PaymentStatus.PARTIALLY_REFUNDED.value


def outstanding_refundable(payment: Payment) -> int:
    """What is left of a payment once every refund that has not failed is counted."""
    committed = sum(r.amount_pence for r in payment.refunds if r.status != RefundState.FAILED.value)
    return max(0, payment.amount_pence - committed)


def create_refund(
    payment: Payment, amount_pence: int, reason: str, now: datetime, actor_id: int | None
) -> Refund | None:
    amount = min(amount_pence, outstanding_refundable(payment))
    if amount <= 0:
        return None
    refund = Refund(
        payment_id=payment.id,
        booking_id=payment.booking_id,
        amount_pence=amount,
        status=RefundState.PENDING.value,
        reason=reason,
        next_attempt_at=now,
        created_at=now,
    )
    payment.refunds.append(refund)
    db.session.flush()
    audit.record(
        "refund.requested",
        "booking",
        payment.booking.reference,
        actor_id=actor_id,
        event_id=payment.booking.event_id,
        at=now,
        refund_id=refund.id,
        amount_pence=amount,
        reason=reason,
    )
    db.session.info.setdefault(NEW_REFUNDS_KEY, []).append(refund.id)
    return refund


def take_new_refund_ids() -> list[int]:
    """Refunds written by the transaction that just committed, to send now that it has."""
    return db.session.info.pop(NEW_REFUNDS_KEY, [])


def release_discount(booking: Booking, now: datetime) -> None:
    """Give back the discount code's use of a booking that will never be completed."""
    redemption = live_redemption(booking.id)
    if redemption is None:
        return
    redemption.released_at = now
    from bookings.payments.models import DiscountCode

    db.session.execute(
        update(DiscountCode)
        .where(DiscountCode.id == redemption.discount_code_id, DiscountCode.uses > 0)
        .values(uses=DiscountCode.uses - 1)
    )


def restore_discount(booking: Booking) -> bool:
    """Take back the code's use given back when the booking expired: a payment made with it arrived late.

    The booker paid the discounted price, so the code is honoured even if its uses have since run
    out. Returns whether a discount was restored (then `order_for` prices the booking with it again).
    """
    if live_redemption(booking.id) is not None:
        return False
    redemption = db.session.scalars(
        select(DiscountRedemption)
        .where(DiscountRedemption.booking_id == booking.id, DiscountRedemption.released_at.is_not(None))
        .order_by(DiscountRedemption.id.desc())
        .limit(1)
    ).first()
    if redemption is None:
        return False
    redemption.released_at = None
    from bookings.payments.models import DiscountCode

    db.session.execute(
        update(DiscountCode).where(DiscountCode.id == redemption.discount_code_id).values(uses=DiscountCode.uses + 1)
    )
    return True


def release_hold(booking: Booking, now: datetime, why: str) -> None:
    """End a held booking whose checkout ended unpaid, and pass its places on. The event is locked."""
    from bookings import capacity

    booking.status = BookingStatus.EXPIRED.value
    booking.expired_at = now
    audit.record(why, "booking", booking.reference, actor_id=None, event_id=booking.event_id, at=now)
    release_discount(booking, now)
    capacity.offer_freed_places(booking.event_id, now)
