"""The waiting list's domain errors and offer-length constants."""

from __future__ import annotations

from datetime import timedelta

from bookings.core.errors import Conflict

# Offers are shortened as the event nears: never more than this share of the time left before it
# starts, and never less than MIN_OFFER (unless booking closes sooner).
OFFER_SHARE_OF_TIME_LEFT = 4
MIN_OFFER = timedelta(hours=1)


class OfferExpired(Conflict):
    code = "offer_expired"


class OfferUsed(Conflict):
    code = "offer_used"


class WaitlistClosed(Conflict):
    code = "waitlist_closed"


class AlreadyOnWaitlist(Conflict):
    code = "already_on_waitlist"


class PlacesAvailable(Conflict):
    code = "places_available"
