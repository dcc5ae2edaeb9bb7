"""Waiting list: entries, offers and the sweep.

Importing the area registers what the lower layers call without importing it
(DESIGN.md: imports flow one way): live offers as a capacity place source,
the offer-making step as the capacity module's freed-places handler, and a
catalogue hook that ends the waiting list of a cancelled event.
"""

from bookings import capacity
from bookings.catalogue import services as _catalogue_services
from bookings.waitlist import places as _places
from bookings.waitlist import services as _services

capacity.register_source("waitlist_offers", _places.live_offer_places)
capacity.register_freed_places_handler("waitlist", _services.offer_freed_places)
_catalogue_services.register_cancellation_hook("waitlist", _services.end_waitlist_for_cancelled_event)
