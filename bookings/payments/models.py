"""Payments, refunds, processed webhook events, numbered documents and discount codes.

Kept apart from the booking models (and keyed by booking id) because the
booking area sits below payments and knows nothing of them.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookings.booking.models import Booking
from bookings.core.types import UTCDateTime
from bookings.extensions import db


class PaymentProvider(enum.StrEnum):
    STRIPE = "stripe"
    INVOICE = "invoice"


class PaymentState(enum.StrEnum):
    PENDING = "pending"  # checkout open / invoice not paid
    PROCESSING = "processing"  # checkout complete, an asynchronous method still settling
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"  # the checkout session expired unpaid
    SUPERSEDED = "superseded"  # replaced by a newer checkout (e.g. after a discount code)
    CANCELLED = "cancelled"  # an unpaid invoice no longer owed: every place was cancelled and credited


class RefundState(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up after every retry: an admin must act


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    RECEIPT = "receipt"


DOCUMENT_PREFIXES = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN", DocumentKind.RECEIPT: "RCP"}


class Payment(db.Model):
    """Money in for a booking: one Stripe Checkout Session, or one invoice."""

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_booking_id_status", "booking_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=PaymentState.PENDING.value)
    amount_pence: Mapped[int] = mapped_column(default=0)
    refunded_pence: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    checkout_url: Mapped[str] = mapped_column(Text, default="")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), default="")
    # The exact Checkout request, so a retry with the same idempotency key sends the same parameters.
    checkout_params: Mapped[dict | None] = mapped_column(JSON)
    # The session must be expired at Stripe (superseded, or its booking went away) and has not been yet.
    is_expiry_due: Mapped[bool] = mapped_column(default=False)
    needs_attention: Mapped[bool] = mapped_column(default=False, index=True)
    attention_reason: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def is_open(self) -> bool:
        return self.status in (PaymentState.PENDING.value, PaymentState.PROCESSING.value)


class Refund(db.Model):
    """Money out through Stripe; written in the transaction that decides it, sent after commit."""

    __tablename__ = "refund"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="RESTRICT"), index=True)
    amount_pence: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=RefundState.PENDING.value, index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_external: Mapped[bool] = mapped_column(default=False)  # made outside Bookings (Stripe dashboard)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class ProcessedWebhookEvent(db.Model):
    """A provider event that has been handled. The unique insert is the at-most-once guarantee."""

    __tablename__ = "processed_webhook_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default=PaymentProvider.STRIPE.value)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(200), default="")
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DocumentCounter(db.Model):
    """The last number issued for one kind of document; updated under the row's write lock."""

    __tablename__ = "document_counter"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Document(db.Model):
    """An issued invoice, credit note or receipt. Its figures are frozen when it is issued."""

    __tablename__ = "payment_document"
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_payment_document_kind_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column()
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"))
    net_pence: Mapped[int] = mapped_column(default=0)
    vat_pence: Mapped[int] = mapped_column(default=0)
    gross_pence: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    # The lines as issued: description, quantity, unit price, VAT rate, discount, net, VAT and gross (pence).
    lines: Mapped[list] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship()

    @property
    def display_number(self) -> str:
        return f"{DOCUMENT_PREFIXES[DocumentKind(self.kind)]}-{self.number:06d}"


class DiscountCode(db.Model):
    """A percentage or a fixed amount off, for one event or all, within a window, up to `max_uses` times."""

    __tablename__ = "discount_code"
    __table_args__ = (
        CheckConstraint("(percent IS NULL) <> (amount_pence IS NULL)", name="percent_or_amount"),
        CheckConstraint("percent IS NULL OR (percent > 0 AND percent <= 100)", name="percent_range"),
        CheckConstraint("amount_pence IS NULL OR amount_pence > 0", name="amount_positive"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_max"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stored upper case
    percent: Mapped[int | None] = mapped_column()
    amount_pence: Mapped[int | None] = mapped_column()
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_uses: Mapped[int | None] = mapped_column()
    uses: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def is_valid_at(self, now: datetime) -> bool:
        if self.valid_from is not None and now < self.valid_from:
            return False
        return not (self.valid_until is not None and now >= self.valid_until)


class DiscountRedemption(db.Model):
    """A discount code applied to a booking; released (and its use given back) if the booking never completes."""

    __tablename__ = "discount_redemption"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), unique=True)
    discount_code_id: Mapped[int] = mapped_column(ForeignKey("discount_code.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    discount_code: Mapped[DiscountCode] = relationship()
