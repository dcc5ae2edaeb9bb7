"""Extension points for the areas built on bookings (payments, calendar, waiting list).

Booking sits below them and may not import them, so they register here at
import time. Every hook runs inside the transaction of the change it follows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bookings.booking.models import Attendee, Booking
    from bookings.notifications.outbox import Attachment

# (booking, cancelled attendees, actor id, now): refunds, credit notes.
CancelHandler = Callable[["Booking", list["Attendee"], int | None, datetime], None]
# (booking, kind) -> attachments for an email of that kind ("confirmed", "cancelled").
AttachmentProvider = Callable[["Booking", str], list["Attachment"]]

cancel_handlers: dict[str, CancelHandler] = {}
attachment_providers: dict[str, AttachmentProvider] = {}


def on_cancel(name: str, handler: CancelHandler) -> None:
    cancel_handlers[name] = handler


def provide_attachments(name: str, provider: AttachmentProvider) -> None:
    attachment_providers[name] = provider


def attachments_for(booking: Booking, kind: str) -> list[Attachment]:
    found: list[Attachment] = []
    for provider in attachment_providers.values():
        found.extend(provider(booking, kind))
    return found
