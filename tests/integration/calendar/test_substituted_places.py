"""A place given to a substitute stays in the feed of the person who held it, as cancelled (rule 5)."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import event as sa_event

from bookings.booking import services as booking_services
from bookings.booking.models import ReplacedPlace
from bookings.calendar import services
from bookings.extensions import db
from tests.integration.calendar.helpers import make_booking
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.usefixtures("request_ctx")


def feed(user, now) -> dict[str, icalendar.Event]:
    file = services.personal_calendar(user.id, now)
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(file.content).walk("VEVENT")}


def booked_by_zoe_for_sam(event):
    """Zoë books for herself and Sam, who has an account (and so can have a feed)."""
    zoe, sam = make_user(email="zoe@council.example"), make_user(email="sam@council.example")
    booking = make_booking(event, zoe, places=2)
    booking.attendees[0].email = zoe.email
    booking.attendees[1].email = sam.email
    db.session.commit()
    return zoe, sam, booking


def give_place(booking, attendee_id, email, actor, now):
    booking_services.substitute_attendee(
        reference=booking.reference, attendee_id=attendee_id, name="Someone", email=email, actor=actor, now=now
    )


def test_a_place_given_to_someone_else_shows_cancelled_in_the_old_holders_feed(clock):
    event = make_event()
    zoe, sam, booking = booked_by_zoe_for_sam(event)
    dan = make_user(email="dan@council.example")
    place = booking.attendees[1]
    uid = f"{event.sessions[0].uid}-{booking.reference}-{place.id}"
    before = feed(sam, clock.now)[uid]
    assert str(before["STATUS"]) == "CONFIRMED"
    zoes_before = feed(zoe, clock.now)

    give_place(booking, place.id, "dan@council.example", zoe, clock.advance(hours=1))

    after = feed(sam, clock.now)
    assert list(after) == [uid]
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert after[uid].decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert after[uid].decoded("LAST-MODIFIED") == clock.now
    assert "given to someone else" in str(after[uid]["DESCRIPTION"])
    assert f"/bookings/{booking.reference}" not in str(after[uid]["DESCRIPTION"])
    # The substitute has the place now; the booker's feed is as it was.
    assert str(feed(dan, clock.now)[uid]["STATUS"]) == "CONFIRMED"
    zoes_after = feed(zoe, clock.now)
    assert list(zoes_after) == list(zoes_before) == [f"{event.sessions[0].uid}-{booking.reference}"]
    assert str(zoes_after[f"{event.sessions[0].uid}-{booking.reference}"]["STATUS"]) == "CONFIRMED"


def test_a_place_given_away_stays_as_long_as_other_cancellations(clock):
    event = make_event(days=2)
    zoe, sam, booking = booked_by_zoe_for_sam(event)
    give_place(booking, booking.attendees[1].id, "dan@council.example", zoe, clock.now)
    end = event.sessions[-1].ends_at

    kept = feed(sam, end + timedelta(days=services.CANCELLED_KEEP_DAYS - 1))
    assert len(kept) == 2 and all(str(e["STATUS"]) == "CANCELLED" for e in kept.values())
    assert feed(sam, end + timedelta(days=services.CANCELLED_KEEP_DAYS + 1)) == {}
    # The booking itself is not cancelled: the booker keeps it for the longer time past events stay.
    assert len(feed(zoe, end + timedelta(days=services.CANCELLED_KEEP_DAYS + 1))) == 2


def test_the_person_replaced_no_longer_gets_the_joining_link(clock):
    event = make_event(is_online=True, online_url="https://meet.example/secret-room")
    zoe, sam, booking = booked_by_zoe_for_sam(event)
    dan = make_user(email="dan@council.example")
    assert "secret-room" in feed(sam, clock.now).popitem()[1].to_ical().decode()

    give_place(booking, booking.attendees[1].id, "dan@council.example", zoe, clock.now)

    (entry,) = feed(sam, clock.now).values()
    assert "secret-room" not in entry.to_ical().decode()
    assert str(entry["LOCATION"]) == "Online"
    assert "secret-room" in feed(dan, clock.now).popitem()[1].to_ical().decode()


def test_a_place_given_back_is_listed_once_as_theirs(clock):
    event = make_event()
    zoe, sam, booking = booked_by_zoe_for_sam(event)
    place_id = booking.attendees[1].id
    give_place(booking, place_id, "dan@council.example", zoe, clock.now)
    give_place(booking, place_id, "sam@council.example", zoe, clock.advance(minutes=5))

    (entry,) = feed(sam, clock.now).values()
    assert str(entry["UID"]) == f"{event.sessions[0].uid}-{booking.reference}-{place_id}"
    assert str(entry["STATUS"]) == "CONFIRMED"


def selects_to_build_feed(user_id: int, now) -> int:
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    db.session.expire_all()
    sa_event.listen(db.engine, "before_cursor_execute", _count)
    try:
        assert services.personal_calendar(user_id, now).content
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", _count)
    return len(statements)


def test_personal_feed_queries_do_not_grow_with_places_given_away(clock):
    few, many = make_user(), make_user()
    for user, count in ((few, 1), (many, 30)):
        for _ in range(count):
            booking = make_booking(make_event(), make_user(), places=1)
            db.session.add(ReplacedPlace(attendee_id=booking.attendees[0].id, user_id=user.id, replaced_at=clock.now))
    db.session.commit()
    counts = [selects_to_build_feed(user_id, clock.now) for user_id in (few.id, many.id)]
    assert counts[0] == counts[1] <= 5
    assert len(feed(many, clock.now)) == 30
