"""Waiting-list entries: a person waiting for N places on a full event, and the offer they may receive."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookings.accounts.models import User
from bookings.catalogue.models import Event, TicketType
from bookings.core.types import UTCDateTime
from bookings.extensions import db


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    CLAIMED = "claimed"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"


# Entries that still stand in line (an `offered` one only while its offer is live).
IN_LINE = (WaitlistStatus.WAITING.value, WaitlistStatus.OFFERED.value)


class WaitlistEntry(db.Model):
    __tablename__ = "waitlist_entry"
    __table_args__ = (
        Index("ix_waitlist_entry_event_status_joined", "event_id", "status", "joined_at", "id"),
        Index("ix_waitlist_entry_status_offer_expires_at", "status", "offer_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # The rate asked for; None means any rate on sale (or the only one).
    ticket_type_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_type.id", ondelete="SET NULL"))
    places: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=WaitlistStatus.WAITING.value)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    has_email_consent: Mapped[bool] = mapped_column(default=False)
    # The rate the offered places are reserved on (the entry's own, or the first that fitted).
    offer_ticket_type_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_type.id", ondelete="SET NULL"))
    offer_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # single-use claim link
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    ticket_type: Mapped[TicketType | None] = relationship(foreign_keys=[ticket_type_id])
    offer_ticket_type: Mapped[TicketType | None] = relationship(foreign_keys=[offer_ticket_type_id])

    def is_offer_live(self, now: datetime) -> bool:
        return (
            self.status == WaitlistStatus.OFFERED.value
            and self.offer_expires_at is not None
            and self.offer_expires_at > now
        )

    def status_at(self, now: datetime) -> str:
        """The status as readers see it: an offer past its time is expired before any sweep marks it."""
        if self.status == WaitlistStatus.OFFERED.value and not self.is_offer_live(now):
            return WaitlistStatus.EXPIRED.value
        return self.status

    def is_in_line(self, now: datetime) -> bool:
        return self.status == WaitlistStatus.WAITING.value or self.is_offer_live(now)
