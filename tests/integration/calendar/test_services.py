"""Calendar services against a real database: UIDs, SEQUENCE, STATUS, windows, queries (tokens: test_feed_tokens.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import event as sa_event

from bookings.calendar import services
from bookings.core.errors import DomainError, NotFound
from bookings.extensions import db
from tests.integration.calendar.helpers import cancel_booking, cancel_event, make_booking, move_session
from tests.support.factories import make_admin, make_event, make_user
from tests.unit.calendar.parsers import vobject_read

pytestmark = pytest.mark.usefixtures("request_ctx")

LONDON = ZoneInfo("Europe/London")


def entries(file) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(file.content).walk("VEVENT"))


def by_uid(file) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in entries(file)}


def test_event_file_has_every_session_with_its_uid():
    event = make_event(days=3)
    file = services.event_calendar(event.slug, viewer_is_admin=False)
    assert set(by_uid(file)) == {s.uid for s in event.sessions}
    assert file.filename == f"{event.slug}.ics"


def test_event_file_sequence_is_session_plus_event_sequence():
    event = make_event()
    event.sequence = 2
    event.sessions[0].sequence = 3
    db.session.commit()
    entry = entries(services.event_calendar(event.slug, viewer_is_admin=False))[0]
    assert entry.decoded("SEQUENCE") == 5


def test_event_file_links_back_and_names_organizer():
    event = make_event(venue_name="Council Chamber", venue_address="1 Civic Square")
    entry = entries(services.event_calendar(event.slug, viewer_is_admin=False))[0]
    assert f"https://bookings.example/events/{event.slug}" in str(entry["DESCRIPTION"])
    assert str(entry["LOCATION"]) == "Council Chamber, 1 Civic Square"
    assert str(entry["ORGANIZER"]) == "mailto:events@bookings.example"


def test_draft_event_file_not_found_for_public():
    event = make_event(status="draft")
    with pytest.raises(NotFound):
        services.event_calendar(event.slug, viewer_is_admin=False)


def test_draft_event_file_tentative_for_admin():
    event = make_event(status="draft")
    entry = entries(services.event_calendar(event.slug, viewer_is_admin=True))[0]
    assert str(entry["STATUS"]) == "TENTATIVE"


def test_cancelled_session_published_cancelled_not_dropped():
    event = make_event(days=2)
    event.sessions[1].is_cancelled = True
    event.sessions[1].sequence += 1
    db.session.commit()
    statuses = {
        uid: str(e["STATUS"]) for uid, e in by_uid(services.event_calendar(event.slug, viewer_is_admin=False)).items()
    }
    assert statuses == {event.sessions[0].uid: "CONFIRMED", event.sessions[1].uid: "CANCELLED"}


def test_public_file_of_online_event_hides_joining_link():
    event = make_event(is_online=True, online_url="https://meet.example/secret-room")
    file = services.event_calendar(event.slug, viewer_is_admin=False)
    assert b"secret-room" not in file.content


def test_booking_file_gives_joining_link_of_online_event():
    event = make_event(is_online=True, online_url="https://meet.example/secret-room")
    booking = make_booking(event, make_user())
    entry = entries(services.booking_calendar(booking.reference, viewer_id=booking.booker_id, viewer_is_admin=False))[0]
    assert str(entry["URL"]) == "https://meet.example/secret-room"
    assert "https://meet.example/secret-room" in str(entry["DESCRIPTION"])


def test_booking_entries_have_uids_distinct_from_public_entries():
    event = make_event(days=2)
    booking = make_booking(event, make_user())
    file = services.booking_calendar(booking.reference, viewer_id=booking.booker_id, viewer_is_admin=False)
    assert set(by_uid(file)) == {f"{s.uid}-{booking.reference}" for s in event.sessions}


def test_booking_file_not_found_for_someone_else():
    booking = make_booking(make_event(), make_user())
    with pytest.raises(NotFound):
        services.booking_calendar(booking.reference, viewer_id=make_user().id, viewer_is_admin=False)


def test_booking_file_for_admin():
    booking = make_booking(make_event(), make_user())
    admin = make_admin()
    assert services.booking_calendar(booking.reference, viewer_id=admin.id, viewer_is_admin=True).content


def test_cancelled_booking_entries_cancelled_with_higher_sequence():
    booking = make_booking(make_event(), make_user())
    before = entries(services.booking_calendar(booking.reference, viewer_id=booking.booker_id, viewer_is_admin=False))[
        0
    ]
    cancel_booking(booking)
    after = entries(services.booking_calendar(booking.reference, viewer_id=booking.booker_id, viewer_is_admin=False))[0]
    assert after["UID"] == before["UID"]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")


def test_booking_cancellation_leaves_public_entry_confirmed():
    event = make_event()
    booking = make_booking(event, make_user())
    cancel_booking(booking)
    entry = entries(services.event_calendar(event.slug, viewer_is_admin=False))[0]
    assert str(entry["STATUS"]) == "CONFIRMED"


def test_moving_then_cancelling_event_raises_sequence_each_time_same_uid():
    event = make_event()
    uid = event.sessions[0].uid
    seen = []
    seen.append(by_uid(services.event_calendar(event.slug, viewer_is_admin=False))[uid])
    move_session(event, 0, by=timedelta(hours=1))
    seen.append(by_uid(services.event_calendar(event.slug, viewer_is_admin=False))[uid])
    cancel_event(event)
    seen.append(by_uid(services.event_calendar(event.slug, viewer_is_admin=False))[uid])
    sequences = [e.decoded("SEQUENCE") for e in seen]
    assert sequences[0] < sequences[1] < sequences[2]
    assert [str(e["STATUS"]) for e in seen] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert seen[1].decoded("DTSTART") - seen[0].decoded("DTSTART") == timedelta(hours=1)


def test_etag_same_for_unchanged_event_and_different_after_change():
    event = make_event()
    first = services.event_calendar(event.slug, viewer_is_admin=False)
    again = services.event_calendar(event.slug, viewer_is_admin=False)
    assert first.etag == again.etag
    assert first.content == again.content
    move_session(event, 0, by=timedelta(minutes=30))
    assert services.event_calendar(event.slug, viewer_is_admin=False).etag != first.etag


def test_last_modified_is_event_update_time(clock):
    event = make_event()
    clock.advance(days=2)
    move_session(event, 0, by=timedelta(minutes=30))
    file = services.event_calendar(event.slug, viewer_is_admin=False)
    assert file.last_modified == clock.now.replace(microsecond=0)


def test_catalogue_feed_filters_by_kind():
    course = make_event(kind="course")
    make_event(kind="webinar")
    file = services.catalogue_calendar("course", datetime.now(UTC))
    assert set(by_uid(file)) == {course.sessions[0].uid}


def test_catalogue_feed_refuses_unknown_kind():
    with pytest.raises(DomainError, match="Unknown kind"):
        services.catalogue_calendar("party", datetime.now(UTC))


def test_catalogue_feed_leaves_out_drafts():
    make_event(status="draft")
    assert entries(services.catalogue_calendar(None, datetime.now(UTC))) == []


def test_catalogue_feed_keeps_cancelled_event_for_thirty_days_after_end(clock):
    event = make_event()
    cancel_event(event)
    end = event.sessions[-1].ends_at
    kept = services.catalogue_calendar(None, end + timedelta(days=services.CANCELLED_KEEP_DAYS - 1))
    assert str(by_uid(kept)[event.sessions[0].uid]["STATUS"]) == "CANCELLED"
    gone = services.catalogue_calendar(None, end + timedelta(days=services.CANCELLED_KEEP_DAYS + 1))
    assert by_uid(gone) == {}


def test_catalogue_feed_keeps_past_event_for_ninety_days(clock):
    event = make_event()
    end = event.sessions[-1].ends_at
    assert by_uid(services.catalogue_calendar(None, end + timedelta(days=services.PAST_KEEP_DAYS - 1)))
    assert by_uid(services.catalogue_calendar(None, end + timedelta(days=services.PAST_KEEP_DAYS + 1))) == {}


def test_personal_feed_has_users_bookings_only():
    user, other = make_user(), make_user()
    mine = make_booking(make_event(), user)
    make_booking(make_event(), other)
    file = services.personal_calendar(user.id, datetime.now(UTC))
    assert set(by_uid(file)) == {f"{mine.event.sessions[0].uid}-{mine.reference}"}


def test_personal_feed_has_the_places_others_booked_for_the_user(clock):
    user, colleague = make_user(email="sam.patel@council.example"), make_user()
    event = make_event()
    booking = make_booking(event, colleague, places=2)
    mine, theirs = booking.attendees
    mine.email = "sam.patel@council.example"
    theirs.email = "someone.else@council.example"
    db.session.commit()
    (entry,) = entries(services.personal_calendar(user.id, clock.now))
    assert str(entry["UID"]) == f"{event.sessions[0].uid}-{booking.reference}-{mine.id}"
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert f"/bookings/{booking.reference}" not in str(entry["DESCRIPTION"])
    # The booker's own feed is unchanged: one entry for the booking, with its link.
    (booker_entry,) = entries(services.personal_calendar(colleague.id, clock.now))
    assert str(booker_entry["UID"]) == f"{event.sessions[0].uid}-{booking.reference}"


def test_a_place_cancelled_for_the_user_shows_cancelled_in_their_feed(clock):
    user, colleague = make_user(email="kim.lee@council.example"), make_user()
    booking = make_booking(make_event(), colleague, places=2)
    mine = booking.attendees[0]
    mine.email = "kim.lee@council.example"
    mine.status = "cancelled"
    mine.cancelled_at = clock.now
    db.session.commit()
    (entry,) = entries(services.personal_calendar(user.id, clock.now))
    assert str(entry["STATUS"]) == "CANCELLED"


def test_personal_feed_keeps_cancelled_booking_as_cancelled(clock):
    user = make_user()
    booking = make_booking(make_event(), user)
    cancel_booking(booking)
    entry = entries(services.personal_calendar(user.id, clock.now))[0]
    assert str(entry["STATUS"]) == "CANCELLED"


def test_a_hold_given_up_never_reaches_the_feed(clock):
    user = make_user()
    make_booking(make_event(), user, status="cancelled")  # held, then cancelled: never confirmed
    assert entries(services.personal_calendar(user.id, clock.now)) == []


def _count_queries(fn) -> int:
    statements = []

    def _count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", _count)
    try:
        fn()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", _count)
    return len(statements)


def test_personal_feed_queries_do_not_grow_with_bookings(clock):
    few, many = make_user(), make_user()
    for _ in range(2):
        make_booking(make_event(days=2), few, places=2)
    for _ in range(200):
        make_booking(make_event(days=2), many, places=2)
    few_id, many_id = few.id, many.id
    db.session.expire_all()
    few_queries = _count_queries(lambda: services.personal_calendar(few_id, clock.now).content)
    db.session.expire_all()
    many_queries = _count_queries(lambda: services.personal_calendar(many_id, clock.now).content)
    assert many_queries == few_queries
    assert many_queries <= 5  # the account's email, then bookings, events, sessions and attendees
    assert len(entries(services.personal_calendar(many_id, clock.now))) == 400


def test_invite_attachment_is_request_with_attendee():
    user = make_user(name="Ann Booker")
    booking = make_booking(make_event(), user)
    attachment = services.booking_ics_attachment(booking)
    assert attachment.filename == f"booking-{booking.reference}.ics"
    assert attachment.content_type == "text/calendar; charset=utf-8; method=REQUEST"
    cal = icalendar.Calendar.from_ical(attachment.content)
    assert str(cal["METHOD"]) == "REQUEST"
    entry = cal.walk("VEVENT")[0]
    assert str(entry["ATTENDEE"]) == f"mailto:{user.email}"
    assert vobject_read(attachment.content).vevent.uid.value == str(entry["UID"])


def test_cancellation_attachment_cancels_same_uid_with_higher_sequence():
    booking = make_booking(make_event(), make_user())
    invite = icalendar.Calendar.from_ical(services.booking_ics_attachment(booking).content).walk("VEVENT")[0]
    attachment = services.booking_ics_attachment(booking, cancelled=True)
    assert attachment.content_type == "text/calendar; charset=utf-8; method=CANCEL"
    cal = icalendar.Calendar.from_ical(attachment.content)
    cancel = cal.walk("VEVENT")[0]
    assert str(cal["METHOD"]) == "CANCEL"
    assert cancel["UID"] == invite["UID"]
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert cancel.decoded("SEQUENCE") > invite.decoded("SEQUENCE")


def test_cancellation_sent_before_or_after_status_change_has_same_sequence():
    booking = make_booking(make_event(), make_user())
    sent_first = services.booking_ics_attachment(booking, cancelled=True).content
    cancel_booking(booking)
    sent_after = services.booking_ics_attachment(booking, cancelled=True).content
    sequences = [
        icalendar.Calendar.from_ical(c).walk("VEVENT")[0].decoded("SEQUENCE") for c in (sent_first, sent_after)
    ]
    assert sequences[0] == sequences[1]


def test_add_to_calendar_links_one_per_live_session():
    event = make_event(days=3)
    event.sessions[1].is_cancelled = True
    db.session.commit()
    links = services.add_to_calendar_links(event)
    assert [link.label for link in links] == ["Day 1", "Day 3"]
    assert all(link.google.startswith("https://calendar.google.com/") for link in links)


def test_add_to_calendar_links_none_for_cancelled_event():
    event = make_event()
    cancel_event(event)
    assert services.add_to_calendar_links(event) == []
