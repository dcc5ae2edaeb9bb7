"""Rule 5 (calendars stay true) for the files people download, subscribe to and get by email.

UIDs and SEQUENCE (docs/calendar.md says the same for readers):

- A public entry (event download, catalogue feed) has the session's own UID;
  its SEQUENCE is `session.sequence + event.sequence`, both raised by the
  catalogue services on every change of time, place or status.
- A booking's entry (booking download, personal feed, email invites) has the
  UID `<session uid>-<booking reference>`: someone who imported both the
  public file and their booking gets two distinct entries, and cancelling
  the booking never cancels the public one. Its SEQUENCE is the public one
  plus BOOKING_CANCELLED_BUMP once the booking is cancelled.
- Cancelled sessions, events and bookings are written as STATUS:CANCELLED and
  stay in feeds (CANCELLED_KEEP_DAYS after their end; anything past stays
  PAST_KEEP_DAYS) rather than vanishing.

Every loader here runs a fixed number of queries whatever the number of
bookings or sessions. Each returns a `CalendarFile` whose ETag is a hash of
the plain data the file is built from, so a conditional request is answered
without building the file.
"""

from bookings.calendar.services.entries import (
    BOOKING_CANCELLED_BUMP,
    CANCELLED_KEEP_DAYS,
    CONTENT_TYPE,
    EPOCH,
    PAST_KEEP_DAYS,
    CalendarFile,
    booking_page_url,
    booking_uid,
    event_page_url,
)
from bookings.calendar.services.feeds import FeedLinks, account_feed_links, feed_links, personal_calendar
from bookings.calendar.services.files import (
    SessionLinks,
    add_to_calendar_links,
    booking_calendar,
    booking_ics_attachment,
    catalogue_calendar,
    event_calendar,
    parse_kind,
)
from bookings.calendar.services.tokens import (
    FEED_USE_RECORD_INTERVAL,
    find_feed_token,
    get_or_create_feed_token,
    regenerate_feed_token,
    revoke_feed_token,
    use_feed_token,
)

__all__ = [
    "BOOKING_CANCELLED_BUMP",
    "CANCELLED_KEEP_DAYS",
    "CONTENT_TYPE",
    "EPOCH",
    "FEED_USE_RECORD_INTERVAL",
    "PAST_KEEP_DAYS",
    "CalendarFile",
    "FeedLinks",
    "SessionLinks",
    "account_feed_links",
    "add_to_calendar_links",
    "booking_calendar",
    "booking_ics_attachment",
    "booking_page_url",
    "booking_uid",
    "catalogue_calendar",
    "event_calendar",
    "event_page_url",
    "feed_links",
    "find_feed_token",
    "get_or_create_feed_token",
    "parse_kind",
    "personal_calendar",
    "regenerate_feed_token",
    "revoke_feed_token",
    "use_feed_token",
]
