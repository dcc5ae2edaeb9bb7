"""Events and what belongs to them. Knows nothing of bookings."""

from __future__ import annotations

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookings.core.types import UTCDateTime
from bookings.extensions import db


class EventKind(enum.StrEnum):
    CONFERENCE = "conference"
    COURSE = "course"
    WEBINAR = "webinar"
    WORKSHOP = "workshop"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    YES_NO = "yesno"


DEFAULT_TIMEZONE = "Europe/London"


class Event(db.Model):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        # Upcoming events in date order, and their count, from the index alone (ends_at is in it for the
        # "not yet ended" filter): one index, so no planner can pick an ends_at index and sort every row.
        Index("ix_event_status_starts_at_ends_at", "status", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=EventKind.COURSE.value)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT.value)
    summary: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    is_online: Mapped[bool] = mapped_column(default=False)
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(500), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(default=0)
    max_places_per_booking: Mapped[int] = mapped_column(default=10)
    booking_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booking_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_cutoff_hours: Mapped[int] = mapped_column(default=48)
    substitution_cutoff_hours: Mapped[int] = mapped_column(default=2)
    hold_minutes: Mapped[int | None] = mapped_column()  # None: the site default
    offer_expiry_hours: Mapped[int | None] = mapped_column()  # None: the site default
    allow_invoice: Mapped[bool] = mapped_column(default=True)
    prices_include_vat: Mapped[bool] = mapped_column(default=True)
    is_waitlist_open: Mapped[bool] = mapped_column(default=True)
    # First session start and last session end, kept by the catalogue services for listing and sorting.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised on every change of time, place or status (iCalendar SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSession.starts_at"
    )
    ticket_types: Mapped[list[TicketType]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="TicketType.position"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Question.position"
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_published(self) -> bool:
        return self.status == EventStatus.PUBLISHED.value

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED.value

    @property
    def is_free(self) -> bool:
        return all(t.price_pence == 0 for t in self.ticket_types)


class EventSession(db.Model):
    """One dated slot of an event. Not `Session`, which means the database session."""

    __tablename__ = "event_session"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(default=0)
    uid: Mapped[str] = mapped_column(String(120), unique=True)  # stable iCalendar UID

    event: Mapped[Event] = relationship(back_populates="sessions")


class TicketType(db.Model):
    """A rate. Prices in pence; VAT in basis points; `cap` limits it inside the event's capacity."""

    __tablename__ = "ticket_type"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("cap IS NULL OR cap >= 0", name="cap_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300), default="")
    price_pence: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    vat_rate_bp: Mapped[int] = mapped_column(default=2000)
    sale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sale_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cap: Mapped[int | None] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="ticket_types")

    def is_on_sale(self, now: datetime) -> bool:
        if self.sale_starts_at is not None and now < self.sale_starts_at:
            return False
        return not (self.sale_ends_at is not None and now >= self.sale_ends_at)


class Question(db.Model):
    """A custom question asked of each attendee."""

    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default=QuestionKind.TEXT.value)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="questions")
