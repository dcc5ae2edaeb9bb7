"""Bookings and attendees. Places are counted per attendee."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookings.accounts.models import User
from bookings.catalogue.models import Event, TicketType
from bookings.core.types import UTCDateTime
from bookings.extensions import db

# WCAG 2.2.1 (timing adjustable) asks that a time limit can be extended at least ten times.
MAX_HOLD_EXTENSIONS = 10


class BookingStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PaymentStatus(enum.StrEnum):
    NOT_REQUIRED = "not_required"  # free
    PENDING = "pending"  # card payment started, not yet paid
    INVOICED = "invoiced"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CREDITED = "credited"  # an unpaid invoice whose places were all cancelled: credit notes, nothing owed


class PaymentMethod(enum.StrEnum):
    FREE = "free"
    INVOICE = "invoice"
    CARD = "card"


class AttendeeStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class Booking(db.Model):
    __tablename__ = "booking"
    __table_args__ = (
        Index("ix_booking_event_status", "event_id", "status"),
        Index("ix_booking_status_hold_expires_at", "status", "hold_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="RESTRICT"))
    booker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.HELD.value)
    payment_status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.PENDING.value)
    payment_method: Mapped[str | None] = mapped_column(String(20))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Times the booker asked for more time (WCAG 2.2.1): at most MAX_HOLD_EXTENSIONS.
    hold_extensions: Mapped[int] = mapped_column(default=0, server_default="0")
    purchase_order: Mapped[str] = mapped_column(String(100), default="")
    billing_contact: Mapped[str] = mapped_column(String(200), default="")
    billing_email: Mapped[str] = mapped_column(String(254), default="")
    billing_address: Mapped[str] = mapped_column(Text, default="")
    total_pence: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    is_details_complete: Mapped[bool] = mapped_column(default=False)
    is_over_capacity: Mapped[bool] = mapped_column(default=False)  # an audited admin override
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    booker: Mapped[User | None] = relationship()
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Attendee.id"
    )

    @property
    def is_held(self) -> bool:
        return self.status == BookingStatus.HELD.value

    @property
    def is_confirmed(self) -> bool:
        return self.status == BookingStatus.CONFIRMED.value

    @property
    def is_cancelled(self) -> bool:
        return self.status == BookingStatus.CANCELLED.value

    @property
    def may_have_more_time(self) -> bool:
        return self.is_held and self.hold_extensions < MAX_HOLD_EXTENSIONS

    def is_hold_live(self, now: datetime) -> bool:
        return self.is_held and self.hold_expires_at is not None and self.hold_expires_at > now

    @property
    def active_attendees(self) -> list[Attendee]:
        return [a for a in self.attendees if a.status == AttendeeStatus.ACTIVE.value]


class Attendee(db.Model):
    """One person's place in a booking."""

    __tablename__ = "attendee"
    __table_args__ = (Index("ix_attendee_event_status", "event_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    # Denormalised from the booking so that places can be counted per event with one index.
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="RESTRICT"))
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_type.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AttendeeStatus.ACTIVE.value)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)  # lower-cased; personal feeds
    organisation: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    dietary_needs: Mapped[str] = mapped_column(String(500), default="")
    access_needs: Mapped[str] = mapped_column(String(500), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # question id (str) -> answer
    price_pence: Mapped[int] = mapped_column(default=0)  # the rate's price when booked
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship(back_populates="attendees")
    ticket_type: Mapped[TicketType] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == AttendeeStatus.ACTIVE.value


class ReplacedPlace(db.Model):
    """A place given to someone else by substitution, as it was the account holder's who lost it.

    The attendee row now names the substitute, so this row is what keeps the place in the previous
    holder's personal calendar feed, as cancelled (docs/calendar.md). Written only when an account
    has the previous attendee email, and never for the booker (their feed shows the booking itself)."""

    __tablename__ = "replaced_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendee_id: Mapped[int] = mapped_column(ForeignKey("attendee.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())
