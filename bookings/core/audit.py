"""Rule 7: every state change of events, bookings, waitlist entries and payments is recorded.

`record()` adds an audit row to the current transaction, so it commits or
rolls back with the change it describes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bookings.core.clock import utcnow
from bookings.core.types import UTCDateTime
from bookings.extensions import db


class AuditRecord(db.Model):
    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_subject", "subject_type", "subject_id"),
        Index("ix_audit_record_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[int | None] = mapped_column()
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    action: str,
    subject_type: str,
    subject_id: object,
    *,
    actor_id: int | None,
    event_id: int | None = None,
    at: datetime | None = None,
    **details: Any,
) -> AuditRecord:
    """Add an audit row for `action` on a subject to the current transaction."""
    row = AuditRecord(
        at=at or utcnow(),
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        event_id=event_id,
        details=details,
    )
    db.session.add(row)
    return row
