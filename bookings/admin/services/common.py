"""Shared by the console's services."""

from __future__ import annotations

from bookings.accounts.models import User
from bookings.core.errors import Forbidden


def check_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only an admin can do this.")
