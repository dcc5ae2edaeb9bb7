"""The one clock. Services take `now` as an argument; views and commands ask here.

Tests replace the clock with `set_clock(lambda: fixed_time)`; nothing else
reads the system time directly, so rules about expiry can be tested exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

_clock: Callable[[], datetime] | None = None


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    if _clock is not None:
        return _clock()
    return datetime.now(UTC)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _clock
    _clock = clock


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
