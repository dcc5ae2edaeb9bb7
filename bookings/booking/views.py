"""The booking journey and My bookings."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("booking", __name__)


@bp.get("/my-bookings")
def my_bookings():
    return ""
