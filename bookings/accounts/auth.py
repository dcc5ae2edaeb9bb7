"""Flask-Login wiring: the session stores "user id:epoch", so a password change ends old sessions."""

from __future__ import annotations

from bookings.accounts.models import User
from bookings.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch) or not user.is_active_account:
        return None
    return user
