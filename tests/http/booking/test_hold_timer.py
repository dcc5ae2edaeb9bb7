"""The hold banner on the attendees and review pages: a hold that ends on another day says which day.

A claimed waiting-list offer is held until the offer's end, which can be days away; a time alone
("until 5:09am") then reads as already past.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from sqlalchemy import select

from bookings.booking.models import Booking
from bookings.extensions import db
from tests.conftest import login_as
from tests.integration.waitlist.helpers import book, cancel, claim_token, join, outbox
from tests.support.factories import make_event, make_user


class _ShownText(HTMLParser):
    """The text of some HTML as a browser shows it without JavaScript: what is inside a `hidden` element is left out."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.hidden_depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID and (self.hidden_depth or any(name == "hidden" for name, _ in attrs)):
            self.hidden_depth += 1

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth:
            self.parts.append(data)


def banner(html: str) -> str:
    """The hold banner's text as shown without JavaScript."""
    block = re.search(r'<div class="govuk-inset-text app-hold".*?</div>', html, re.S)
    assert block, "no hold banner"
    parser = _ShownText()
    parser.feed(block.group(0))
    return " ".join("".join(parser.parts).split())


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
        assert "We are holding 2 places for you until 11:59pm. After that" in banner(html)


def test_time_left_is_hidden_until_the_script_counts_down(client, clock):
    event = make_event(capacity=5)
    reference = _hold(client, event)

    html = client.get(f"/bookings/{reference}/attendees").text

    # Without JavaScript nothing fills the countdown: no empty "Time left:" is shown. app.js un-hides it.
    assert "Time left" not in banner(html)
    assert re.search(r'<span class="app-timer"[^>]*\sdata-timer\s[^>]*\bhidden>Time left: <span data-countdown>', html)


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
