"""The outbox: emails written in the same transaction as the change they report."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bookings.core.types import UTCDateTime
from bookings.extensions import db


class OutboxStatus(enum.StrEnum):
    UNRENDERED = "unrendered"  # queued with its recipe; rendered just after the commit (docs/notifications.md)
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; reclaimed if it stays so too long
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS; shown to admins


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique per message; also the Message-ID, so a resend after a crash is recognisable.
    message_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    # [{"filename", "content_type", "content"}]; content is text (calendar files).
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Optional links for the admin view; plain values, no foreign keys into other areas.
    booking_reference: Mapped[str | None] = mapped_column(String(20), index=True)
    event_id: Mapped[int | None] = mapped_column()
