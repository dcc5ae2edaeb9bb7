"""Events, their sessions and rates: creating, changing, publishing and cancelling them.

The rules owned here:

- An event always has at least one live session and one rate, and its
  `starts_at`/`ends_at` follow its live sessions.
- Calendars stay true (rule 5): every session keeps the UID it was given;
  a change of a session's time or title raises that session's SEQUENCE; a
  change of the event's title, timezone, place or status raises every
  session's; any of these raises the event's. A session taken off a
  published event is cancelled (shown as STATUS:CANCELLED), not deleted.
- Capacity and rate caps never drop below the places already taken (rule 1):
  they change under the capacity module's lock, in the transaction that
  checks them, so a concurrent booking cannot slip under a lowered limit.
  Places freed by raising them go to the waiting list first (rule 4).
- A rate that anything refers to (an attendee's booking) cannot be removed.
- Every change writes an audit record in the same transaction (rule 7).

Input is checked by `bookings.catalogue.inputs` (every field at once) before
anything is written. The catalogue knows nothing of bookings: areas that must
act when an event is cancelled or moved register a hook here.
"""

from bookings.catalogue.services.editing import CALENDAR_FIELDS, EVENT_ATTRIBUTES, create_event, update_event
from bookings.catalogue.services.hooks import (
    CancellationHook,
    ChangeHook,
    register_cancellation_hook,
    register_change_hook,
)
from bookings.catalogue.services.hooks import _cancellation_hooks as _cancellation_hooks
from bookings.catalogue.services.hooks import _change_hooks as _change_hooks
from bookings.catalogue.services.schedule import TICKET_TYPE_ATTRIBUTES, new_session_uid
from bookings.catalogue.services.slugs import MAX_SLUG_LENGTH, slugify
from bookings.catalogue.services.slugs import _slug_taken as _slug_taken
from bookings.catalogue.services.status import STATUS_ACTIONS, cancel_event, publish_event, unpublish_event

__all__ = [
    "CALENDAR_FIELDS",
    "EVENT_ATTRIBUTES",
    "MAX_SLUG_LENGTH",
    "STATUS_ACTIONS",
    "TICKET_TYPE_ATTRIBUTES",
    "CancellationHook",
    "ChangeHook",
    "cancel_event",
    "create_event",
    "new_session_uid",
    "publish_event",
    "register_cancellation_hook",
    "register_change_hook",
    "slugify",
    "unpublish_event",
    "update_event",
]
