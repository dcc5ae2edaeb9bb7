"""The hooks other areas register to act when an event is cancelled or its time or place changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bookings.catalogue.models import Event

# (event, actor_id, now) -> None; runs inside the cancelling transaction.
CancellationHook = Callable[[Event, "int | None", datetime], None]
# (event, changed field names, actor_id, now) -> None; runs when a published event's time or place changes.
ChangeHook = Callable[[Event, "list[str]", "int | None", datetime], None]

_cancellation_hooks: dict[str, CancellationHook] = {}
_change_hooks: dict[str, ChangeHook] = {}


def register_cancellation_hook(name: str, hook: CancellationHook) -> None:
    """Run `hook` inside the transaction that cancels an event (to tell bookers, refund, close the waiting list)."""
    _cancellation_hooks[name] = hook


def register_change_hook(name: str, hook: ChangeHook) -> None:
    """Run `hook` inside the transaction that moves a published event (new times, place or sessions)."""
    _change_hooks[name] = hook
