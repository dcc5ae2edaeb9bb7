"""`@rate_limit(...)`: refuse a burst of state-changing requests with a 429 and a plain message.

Hoarding: a script that holds, books or joins waiting lists as fast as it can
is slowed to `limit` requests per `window` per person (or per address when
nobody is signed in). Hits are kept in the database (`bookings.core.throttle`),
so the limit holds across processes and hosts. Reads (GET, HEAD) are never limited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial, wraps
from typing import Literal, ParamSpec, TypeVar

from flask import current_app, g, request
from flask_login import current_user

from bookings.core import throttle
from bookings.core.clock import utcnow
from bookings.core.db import forget_pending_write, run_with_next_write, transactional
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


@transactional(durable=False)  # a hit lost in a crash harms nothing
def _take_turn(key: str, limit: int, window: timedelta, now) -> bool:
    """Record a hit unless the key is over its limit; False when it is."""
    if throttle.is_limited(key, limit=limit, window=window, now=now):
        return False
    throttle.add_hit(key, now=now)
    return True


def _hit_with_the_change(key: str, limit: int, window: timedelta, now, message: str) -> None:
    """Inside the view's write transaction: refuse (rolling it back) when over the limit, else record the hit."""
    if throttle.is_limited(key, limit=limit, window=window, now=now):
        raise RateLimited(message)
    throttle.add_hit(key, now=now)


def _describe(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def rate_limit(
    key_func: Callable[[], str],
    limit: int | str,
    window: int | str,
    *,
    action: str = "do this",
    counts: Literal["attempts", "changes"] = "attempts",
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Allow `limit` state-changing requests per `window` seconds per key. Either may name a config setting.

    `counts="attempts"`: every request is a hit, written before the view runs
    (signing up, where failed attempts are what to slow). `counts="changes"`:
    only a request that changes something is a hit (holding, booking, joining
    a waiting list: the limit is against hoarding). The limit is checked by a
    read before the view, and the hit is written, and checked again, at the
    start of the view's own write transaction (`core.db.run_with_next_write`),
    so a request pays for one write, not two. A refusal the view makes
    before writing (sold out, a mistake in the form) changes nothing and costs
    no hit: it was no dearer than the limit's own check.
    """

    def decorator(view: Callable[P, T]) -> Callable[P, T]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            if request.method not in SAFE_METHODS:
                allowed = int(current_app.config[limit] if isinstance(limit, str) else limit)
                seconds = int(current_app.config[window] if isinstance(window, str) else window)
                message = (
                    f"You have tried to {action} too many times in a short time. "
                    f"Wait {_describe(seconds)} and try again."
                )
                key = key_func()  # before any transaction: a commit expires the signed-in user
                span, now = timedelta(seconds=seconds), utcnow()
                if counts == "changes":
                    if throttle.is_limited(key, limit=allowed, window=span, now=now):
                        raise RateLimited(message)
                    hit = partial(_hit_with_the_change, key, allowed, span, now, message)
                    run_with_next_write(hit)
                    try:
                        return view(*args, **kwargs)
                    finally:  # no hit for a request that wrote nothing (nor for a later one)
                        forget_pending_write(hit)
                if not _take_turn(key, allowed, span, now):
                    raise RateLimited(message)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def hoarding_limit(scope: str, action: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """The limit on taking places (holding, booking, joining waiting lists): BOOKING_RATE_LIMIT changes
    per BOOKING_RATE_WINDOW_SECONDS per person, on the web and through the API alike."""
    return rate_limit(
        per_person(scope), "BOOKING_RATE_LIMIT", "BOOKING_RATE_WINDOW_SECONDS", action=action, counts="changes"
    )
