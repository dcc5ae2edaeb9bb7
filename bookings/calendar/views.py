"""Calendar files and feeds."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__)
