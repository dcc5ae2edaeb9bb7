"""Waiting list: entries, offers and the sweep.

Importing the area registers what the lower layers call without importing it
(DESIGN.md: imports flow one way): live offers as a capacity place source,
the offer-making step as the capacity module's freed-places handler, and a
catalogue hook that ends the waiting list of a cancelled event.
"""

from bookings import capacity
from bookings.catalogue import services as _catalogue_services
from bookings.core import pages as _pages
from bookings.waitlist import places as _places
from bookings.waitlist import services as _services

capacity.register_source("waitlist_offers", _places.live_offer_places)
capacity.register_freed_places_handler("waitlist", _services.offer_freed_places)
_catalogue_services.register_cancellation_hook("waitlist", _services.end_waitlist_for_cancelled_event)


def _event_page(*, event, user, now):
    """The signed-in person's place in line on the event page."""
    entry = _services.current_entry(event.id, user.id, now) if user is not None else None
    return {"waitlist_entry": _services.entry_view(entry, now) if entry is not None else None}


def _account_page(*, user, now):
    entries = [view for view in _services.entries_for_user(user.id, now) if view.position or view.status == "offered"]
    return {"waitlist_entries": entries}


_pages.provide("event", "waitlist", _event_page)
_pages.provide("account", "waitlist", _account_page)
