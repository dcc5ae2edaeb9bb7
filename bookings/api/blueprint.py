"""The /api/v1 blueprint: bearer-token authentication and JSON errors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
