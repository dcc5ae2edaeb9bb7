"""The site's own table: the public pages' generation counter (see bookings/site/page_cache.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from bookings.extensions import db


class PublicGeneration(db.Model):
    """One row (id 1) whose value moves on after every committed change to what public pages show."""

    __tablename__ = "public_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
