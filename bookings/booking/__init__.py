"""Holds, bookings, attendees, cancellation and substitution."""

from bookings.booking import notify_event_changes as _notify_event_changes  # noqa: F401  registers catalogue hooks
from bookings.booking import places as _places  # noqa: F401  registers the place source
