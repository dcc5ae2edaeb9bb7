"""The waiting list (DESIGN.md rules 1, 2, 4 and 7): joining, fair offers, claiming, leaving.

Rule 4, owned here: freed places go to the waiting list before open sale.
`offer_freed_places` is registered with the capacity module and runs inside
the transaction that holds the event lock whenever places may have been freed
(before every open sale, after a cancellation or an expired hold, when
capacity is raised, and from the sweep). It walks the entries in join order
and offers places to each one whose requested places fit in what is free now;
an entry that does not fit keeps its position and a later, smaller one may be
offered. An offer reserves its places (they count against capacity through
the waiting list's place source) until `offer_expires_at`; after that they
stop counting at once (rule 2), and the next run of the handler marks the
offer expired and passes the places on.

Every change writes an audit row and its email in the same transaction (rule 7).
"""

from bookings.waitlist.services.admin import (
    end_waitlist_for_cancelled_event,
    offer_to_entry,
    send_offers_now,
    set_waitlist_open,
)
from bookings.waitlist.services.claims import claim_offer, claim_offer_and_book
from bookings.waitlist.services.errors import (
    MIN_OFFER,
    OFFER_SHARE_OF_TIME_LEFT,
    AlreadyOnWaitlist,
    OfferExpired,
    OfferUsed,
    PlacesAvailable,
    WaitlistClosed,
)
from bookings.waitlist.services.joining import decline_offer, join_waitlist, leave_waitlist
from bookings.waitlist.services.offers import offer_expiry_for, offer_freed_places, run_offers
from bookings.waitlist.services.queries import (
    EntryView,
    current_entry,
    entries_for_event,
    entries_for_user,
    entry_view,
    find_offer,
    get_entry_for,
    position_of,
    positions_for_event,
    waitlist_lengths,
)

__all__ = [
    "MIN_OFFER",
    "OFFER_SHARE_OF_TIME_LEFT",
    "AlreadyOnWaitlist",
    "EntryView",
    "OfferExpired",
    "OfferUsed",
    "PlacesAvailable",
    "WaitlistClosed",
    "claim_offer",
    "claim_offer_and_book",
    "current_entry",
    "decline_offer",
    "end_waitlist_for_cancelled_event",
    "entries_for_event",
    "entries_for_user",
    "entry_view",
    "find_offer",
    "get_entry_for",
    "join_waitlist",
    "leave_waitlist",
    "offer_expiry_for",
    "offer_freed_places",
    "offer_to_entry",
    "position_of",
    "positions_for_event",
    "run_offers",
    "send_offers_now",
    "set_waitlist_open",
    "waitlist_lengths",
]
