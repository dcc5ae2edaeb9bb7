"""Joining, leaving and claiming from the waiting list."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("waitlist", __name__)
