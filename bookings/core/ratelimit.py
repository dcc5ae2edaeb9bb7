"""`@rate_limit(...)`: refuse a burst of state-changing requests with a 429 and a plain message.

Hoarding: a script that holds, books or joins waiting lists as fast as it can
is slowed to `limit` requests per `window` per person (or per address when
nobody is signed in). Hits are kept in the database (`bookings.core.throttle`),
so the limit holds across processes and hosts. Reads (GET, HEAD) are never limited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, request
from flask_login import current_user

from bookings.core import throttle
from bookings.core.clock import utcnow
from bookings.core.db import transactional
from bookings.core.errors import RateLimited

P = ParamSpec("P")
T = TypeVar("T")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def per_person(scope: str) -> Callable[[], str]:
    """A key per signed-in person (web session or API token), else per client address."""

    def key() -> str:
        api_user = g.get("api_user")
        if api_user is not None:
            return f"{scope}:user:{api_user.id}"
        if current_user and current_user.is_authenticated:
            return f"{scope}:user:{current_user.id}"
        return f"{scope}:address:{request.remote_addr or 'unknown'}"

    return key


@transactional
def _take_turn(key: str, limit: int, window: timedelta, now) -> bool:
    """Record a hit unless the key is over its limit; False when it is."""
    if throttle.is_limited(key, limit=limit, window=window, now=now):
        return False
    throttle.add_hit(key, now=now)
    return True


def _describe(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def rate_limit(
    key_func: Callable[[], str],
    limit: int | str,
    window: int | str,
    *,
    action: str = "do this",
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Allow `limit` state-changing requests per `window` seconds per key. Either may name a config setting."""

    def decorator(view: Callable[P, T]) -> Callable[P, T]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            if request.method not in SAFE_METHODS:
                allowed = current_app.config[limit] if isinstance(limit, str) else limit
                seconds = current_app.config[window] if isinstance(window, str) else window
                if not _take_turn(key_func(), int(allowed), timedelta(seconds=int(seconds)), utcnow()):
                    raise RateLimited(
                        f"You have tried to {action} too many times in a short time. "
                        f"Wait {_describe(int(seconds))} and try again."
                    )
            return view(*args, **kwargs)

        return wrapper

    return decorator
