"""Who may use the console: signed-in admins. Anonymous visitors are sent to sign in; anyone else gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort
from flask_login import current_user

from bookings.extensions import login_manager

P = ParamSpec("P")
T = TypeVar("T")


def refuse_non_admins():
    """None for an admin; otherwise the response that turns the visitor away (sign-in redirect or 403)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


def admin_required(view: Callable[P, T]) -> Callable[P, T]:
    """Anonymous -> redirect to sign in (with `next`); signed in without the admin role -> 403."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        refusal = refuse_non_admins()
        if refusal is not None:
            return refusal
        return view(*args, **kwargs)

    return wrapper
