"""The hold banner on the attendees and review pages: a hold that ends on another day says which day.

A claimed waiting-list offer is held until the offer's end, which can be days away; a time alone
("until 5:09am") then reads as already past.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from bookings.booking.models import Booking
from bookings.extensions import db
from tests.conftest import login_as
from tests.integration.waitlist.helpers import book, cancel, claim_token, join, outbox
from tests.support.factories import make_event, make_user


def banner(html: str) -> str:
    block = re.search(r'<div class="govuk-inset-text app-hold".*?</div>', html, re.S)
    assert block, "no hold banner"
    return " ".join(re.sub(r"<[^>]+>", "", block.group(0)).split())


def _hold(client, event, places: int = 2) -> str:
    login_as(client, make_user())
    response = client.post(f"/events/{event.slug}/book", data={"places": str(places)})
    return re.search(r"/bookings/(BK-[A-Z0-9]+)/", response.headers["Location"]).group(1)


def _fill_in_attendees(client, reference: str, places: int) -> None:
    data = {}
    for index in range(places):
        data[f"attendees-{index}-name"] = f"Delegate {index}"
        data[f"attendees-{index}-email"] = f"delegate{index}@council.example"
    assert client.post(f"/bookings/{reference}/attendees", data=data).status_code == 302


def _set_hold_end(reference: str, ends: datetime) -> None:
    booking = db.session.scalars(select(Booking).where(Booking.reference == reference)).one()
    booking.hold_expires_at = ends
    db.session.commit()


def test_claimed_offer_held_for_days_shows_the_date_it_ends(client, clock):
    clock.set(datetime(2026, 11, 29, 10, 9, tzinfo=UTC))  # a Sunday
    event = make_event(capacity=2, offer_expiry_hours=67)  # the offer ends at 05:09 on Wednesday
    user = make_user()
    full = book(event, 2, clock.now)
    join(event, 2, clock.now, user=user)
    cancel(full, clock.now)  # the freed places are offered to the waiting list
    login_as(client, user)

    claimed = client.post(f"/waitlist/claim/{claim_token(outbox('waitlist_offer', to=user.email)[0])}")
    attendees = client.get(claimed.headers["Location"])

    expected = "We are holding 2 places for you until 5:09am on Wednesday 2 December 2026."
    assert expected in banner(attendees.text)


def test_hold_ending_later_today_shows_only_the_time(client, clock):
    event = make_event(capacity=5)
    reference = _hold(client, event)
    _set_hold_end(reference, datetime(2026, 11, 29, 23, 59, tzinfo=UTC))  # the fake clock's day, in London
    attendees = client.get(f"/bookings/{reference}/attendees").text
    _fill_in_attendees(client, reference, 2)
    review = client.get(f"/bookings/{reference}/review").text

    for html in (attendees, review):
        assert "We are holding 2 places for you until 11:59pm. Time left" in banner(html)


def test_hold_ending_tomorrow_shows_the_date_on_the_review_page_too(client, clock):
    event = make_event(capacity=5)
    reference = _hold(client, event, places=1)
    _fill_in_attendees(client, reference, 1)
    _set_hold_end(reference, datetime(2026, 11, 30, 0, 1, tzinfo=UTC))

    html = client.get(f"/bookings/{reference}/review").text

    assert "until 12:01am on Monday 30 November 2026." in banner(html)


def test_today_is_the_day_in_the_events_timezone(client, clock):
    event = make_event(capacity=5, timezone="America/New_York")
    reference = _hold(client, event)
    # 03:00 UTC on Monday is 10pm on Sunday in New York: the clock's Sunday there, though Monday in London.
    _set_hold_end(reference, datetime(2026, 11, 30, 3, 0, tzinfo=UTC))

    html = client.get(f"/bookings/{reference}/attendees").text

    assert "until 10pm (America/New_York)." in banner(html)
