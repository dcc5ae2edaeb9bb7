"""iCalendar files, feeds and add-to-calendar links."""

from bookings.booking import hooks as _booking_hooks
from bookings.core import pages as _pages


def _booking_email_attachments(booking, kind: str):
    from bookings.calendar.services import booking_ics_attachment

    if kind not in ("confirmed", "cancelled"):
        return []
    return [booking_ics_attachment(booking, cancelled=kind == "cancelled")]


# Confirmation emails carry an invite (METHOD:REQUEST), cancellation emails a METHOD:CANCEL.
_booking_hooks.provide_attachments("calendar", _booking_email_attachments)


def _account_page(*, user, now):
    from bookings.calendar.services import account_feed_links

    return {"calendar_feed": account_feed_links(user.id)}


_pages.provide("account", "calendar", _account_page)
