"""Bookings: holding places, attendee details, confirming, cancelling, substituting, expiring.

Rules owned here (DESIGN.md 1, 2, 6, 7, 8): every change of places goes
through `bookings.capacity.take_places` inside the service's own write
transaction; a hold lasts until `hold_expires_at` and stops counting the
moment it passes; only the booker or an admin reaches a booking; each change
writes its audit row and its emails in the same transaction.
"""

from bookings.booking.services.cancelling import cancel_booking, queue_cancellation_emails, substitute_attendee
from bookings.booking.services.common import (
    BillingDetails,
    HoldExpired,
    check_hold_quota,
    create_hold,
    get_booking_for,
    hold_minutes_for,
    load_event,
    locked_booking,
)
from bookings.booking.services.confirming import (
    confirm_booking,
    mark_confirmed,
    send_confirmation_emails,
    set_billing,
)
from bookings.booking.services.expiry import expire_holds
from bookings.booking.services.holding import (
    apply_attendee_details,
    ensure_live_or_refit,
    extend_hold,
    hold_places,
    refit_expired_hold,
    save_attendee_details,
    still_held,
)
from bookings.booking.services.one_step import book_places
from bookings.booking.services.queries import my_bookings

__all__ = [
    "BillingDetails",
    "HoldExpired",
    "apply_attendee_details",
    "book_places",
    "cancel_booking",
    "check_hold_quota",
    "confirm_booking",
    "create_hold",
    "ensure_live_or_refit",
    "expire_holds",
    "extend_hold",
    "get_booking_for",
    "hold_minutes_for",
    "hold_places",
    "load_event",
    "locked_booking",
    "mark_confirmed",
    "my_bookings",
    "queue_cancellation_emails",
    "refit_expired_hold",
    "save_attendee_details",
    "send_confirmation_emails",
    "set_billing",
    "still_held",
    "substitute_attendee",
]
