"""Personal calendar feed tokens (rule 6: feeds only through an unguessable, revocable token)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bookings.core.types import UTCDateTime
from bookings.extensions import db


class CalendarFeedToken(db.Model):
    """One feed address of one user. At most one is live (not revoked) per user.

    The secret in the address is not stored: it is an HMAC of this row's id
    and user id under the app's secret key (see `bookings.calendar.feeds`),
    so the account page can show the address again, while the database
    holds only its SHA-256 (`token_hash`), which is how a request finds the
    row. Revoking sets `revoked_at`; the address then answers 404 for ever,
    and regenerating makes a new row, hence a new address.
    """

    __tablename__ = "calendar_feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
