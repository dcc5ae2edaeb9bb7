"""Users and their API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bookings.core.types import UTCDateTime
from bookings.extensions import db


class Role(enum.StrEnum):
    ATTENDEE = "attendee"
    ADMIN = "admin"


class Sector(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    VOLUNTARY = "voluntary"


SECTOR_LABELS = {
    Sector.PUBLIC: "Public sector",
    Sector.PRIVATE: "Private sector",
    Sector.VOLUNTARY: "Voluntary or charity sector",
}


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    sector: Mapped[str] = mapped_column(String(20), default=Sector.PUBLIC.value)
    role: Mapped[str] = mapped_column(String(20), default=Role.ATTENDEE.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Changes whenever the password does: every session and remember cookie made before it ends.
    session_epoch: Mapped[int] = mapped_column(default=0)
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_active_account

    def get_id(self) -> str:
        # The epoch is part of the id Flask-Login stores, so a password change
        # invalidates every existing session and remember-me cookie.
        return f"{self.id}:{self.session_epoch}"


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="api_tokens")
