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

# (reference, now), after the cancelling transaction has committed: network calls such as refunds.
AfterCancelCommit = Callable[[str, datetime], None]

cancel_handlers: dict[str, CancelHandler] = {}
attachment_providers: dict[str, AttachmentProvider] = {}
after_cancel_commit_handlers: dict[str, AfterCancelCommit] = {}
# (booking) -> extra values for the review page (the payments area's order summary with VAT).
ReviewContextProvider = Callable[["Booking"], dict]
review_context_providers: dict[str, ReviewContextProvider] = {}


# (booking) -> pence still to pay: the list price less any discount (payments). One provider at most.
AmountDueProvider = Callable[["Booking"], int]
amount_due_providers: dict[str, AmountDueProvider] = {}


def provide_amount_due(name: str, provider: AmountDueProvider) -> None:
    amount_due_providers[name] = provider


def amount_due(booking: Booking) -> int:
    """What the booker must pay for it: its total at list price unless an area above says otherwise."""
    if booking.total_pence == 0:
        return 0  # a free rate: nothing to ask anyone
    for provider in amount_due_providers.values():
        return provider(booking)
    return booking.total_pence


def provide_review_context(name: str, provider: ReviewContextProvider) -> None:
    review_context_providers[name] = provider


def review_context(booking: Booking) -> dict:
    """What the areas above booking add to the review page, computed before rendering."""
    context: dict = {}
    for provider in review_context_providers.values():
        context.update(provider(booking))
    return context


def on_cancel(name: str, handler: CancelHandler) -> None:
    cancel_handlers[name] = handler


def after_cancel_commit(name: str, handler: AfterCancelCommit) -> None:
    """Run `handler` after a cancellation has committed (never inside a transaction)."""
    after_cancel_commit_handlers[name] = handler


def cancellation_committed(reference: str, now: datetime) -> None:
    """Call after `cancel_booking` returns: refunds go out now rather than at the next sweep."""
    for handler in after_cancel_commit_handlers.values():
        handler(reference, now)


def provide_attachments(name: str, provider: AttachmentProvider) -> None:
    attachment_providers[name] = provider


def attachments_for(booking: Booking, kind: str) -> list[Attachment]:
    found: list[Attachment] = []
    for provider in attachment_providers.values():
        found.extend(provider(booking, kind))
    return found
