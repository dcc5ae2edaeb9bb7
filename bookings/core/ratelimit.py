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


_SHARED_WRITES = "ratelimit_shared_writes"


def share_next_turn(write: Callable[[], None]) -> None:
    """Run `write` inside this request's next rate-limit transaction instead of one of its own.

    For small bookkeeping writes noticed before the view runs (an API token's
    last use): a limited request pays for one write transaction, not two. The
    caller runs what is still pending itself (`take_shared_writes`) when the
    request has no rate limit.
    """
    g.setdefault(_SHARED_WRITES, []).append(write)


def take_shared_writes() -> list[Callable[[], None]]:
    """The writes `share_next_turn` was given that no rate-limit transaction has run yet (and forget them)."""
    return g.pop(_SHARED_WRITES, [])


@transactional
def _take_turn(key: str, limit: int, window: timedelta, now, shared: list[Callable[[], None]]) -> bool:
    """Record a hit unless the key is over its limit; False when it is. Either way run the shared writes."""
    for write in shared:
        write()
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
                key = key_func()  # before the transaction: its opening commit expires the signed-in user
                turn = _take_turn(key, int(allowed), timedelta(seconds=int(seconds)), utcnow(), take_shared_writes())
                if not turn:
                    raise RateLimited(
                        f"You have tried to {action} too many times in a short time. "
                        f"Wait {_describe(int(seconds))} and try again."
                    )
            return view(*args, **kwargs)

        return wrapper

    return decorator
