"""Holds, bookings, attendees, cancellation and substitution."""

from bookings.booking import places as _places  # noqa: F401  registers the place source
