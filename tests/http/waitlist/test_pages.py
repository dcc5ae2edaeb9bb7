"""The waiting list in the browser: join from a full event, see your position, leave, claim or decline an offer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.conftest import login_as
from tests.integration.waitlist.helpers import book, cancel, claim_token, fresh, join, outbox
from tests.support.factories import make_event, make_user


@pytest.fixture
def now(clock):
    return clock.now


def _entries() -> list[WaitlistEntry]:
    db.session.rollback()
    return list(db.session.scalars(db.select(WaitlistEntry).order_by(WaitlistEntry.id)))


def _offer_for(client, event, now):
    """A signed-in user with a live offer on `event`; returns (user, entry, token)."""
    user = make_user()
    booking = book(event, 1, now)
    entry = join(event, 1, now, user=user)
    cancel(booking, now)
    login_as(client, user)
    token = claim_token(outbox("waitlist_offer", to=user.email)[0])
    return user, fresh(entry), token


def test_full_event_page_links_to_the_waiting_list(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)

    html = client.get(f"/events/{event.slug}").get_data(as_text=True)

    assert "Join the waiting list" in html
    assert f"/events/{event.slug}/waitlist" in html


def test_joining_needs_sign_in(client, now):
    event = make_event(capacity=1)

    response = client.get(f"/events/{event.slug}/waitlist")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"] or "sign" in response.headers["Location"]


def test_join_form_puts_you_in_line_and_shows_your_position(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    join(event, 1, now)
    login_as(client, make_user())

    form = client.get(f"/events/{event.slug}/waitlist").get_data(as_text=True)
    response = client.post(f"/events/{event.slug}/waitlist", data={"places": "2", "has_email_consent": "yes"})

    assert 'for="places"' in form and "has_email_consent" in form
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are 2nd in line" in page
    assert [e.places for e in _entries()] == [1, 2]


def test_the_list_of_an_event_that_has_started_says_so_with_no_form(client, now):
    event = make_event(capacity=1, starts_at=now - timedelta(hours=1))
    login_as(client, make_user())

    page = client.get(f"/events/{event.slug}/waitlist")
    posted = client.post(f"/events/{event.slug}/waitlist", data={"places": "1", "has_email_consent": "yes"})

    assert page.status_code == 200 and posted.status_code == 409
    for html in (page.get_data(as_text=True), posted.get_data(as_text=True)):
        assert "You cannot join this waiting list" in html and "already started" in html
        assert 'name="places"' not in html
    assert _entries() == []


def test_join_without_consent_shows_an_error_summary_and_writes_nothing(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    login_as(client, make_user())

    response = client.post(f"/events/{event.slug}/waitlist", data={"places": "1"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert 'href="#has_email_consent"' in html
    assert _entries() == []


def test_join_with_places_not_a_number_is_refused(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    login_as(client, make_user())

    response = client.post(f"/events/{event.slug}/waitlist", data={"places": "two", "has_email_consent": "yes"})

    assert response.status_code == 422
    assert 'href="#places"' in response.get_data(as_text=True)
    assert _entries() == []


def test_join_while_places_still_fit_says_book_instead(client, now):
    event = make_event(capacity=5)
    login_as(client, make_user())

    response = client.post(f"/events/{event.slug}/waitlist", data={"places": "1", "has_email_consent": "yes"})

    assert response.status_code == 422
    assert "book them instead" in response.get_data(as_text=True)
    assert _entries() == []


def test_my_waiting_lists_shows_the_position_and_leaving_works(client, now):
    event = make_event(capacity=1, title="Data protection basics")
    book(event, 1, now)
    join(event, 1, now)
    user = make_user()
    entry = join(event, 1, now + timedelta(minutes=1), user=user)
    login_as(client, user)

    page = client.get("/my-waiting-lists").get_data(as_text=True)
    left = client.post(f"/waitlist/{entry.id}/leave")

    assert "Data protection basics" in page and "You are 2nd in line" in page
    assert left.status_code == 302
    assert fresh(entry).status == WaitlistStatus.WITHDRAWN.value
    assert "You are 2nd in line" not in client.get("/my-waiting-lists").get_data(as_text=True)


def test_leaving_someone_elses_entry_is_not_found(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now)
    login_as(client, make_user())

    assert client.post(f"/waitlist/{entry.id}/leave").status_code == 404
    assert fresh(entry).status == WaitlistStatus.WAITING.value


def test_claim_link_shows_the_offer_and_claiming_continues_the_booking_journey(client, now):
    event = make_event(capacity=1)
    _user, entry, token = _offer_for(client, event, now)

    page = client.get(f"/waitlist/claim/{token}")
    claimed = client.post(f"/waitlist/claim/{token}")

    assert page.status_code == 200 and "Claim 1 place" in page.get_data(as_text=True)
    assert claimed.status_code == 302
    reference = fresh(entry).claimed_booking_id
    assert reference is not None
    assert "/attendees" in claimed.headers["Location"]


def test_claim_link_works_once(client, now):
    event = make_event(capacity=1)
    _user, _entry, token = _offer_for(client, event, now)
    client.post(f"/waitlist/claim/{token}")

    again = client.post(f"/waitlist/claim/{token}")
    page = client.get(f"/waitlist/claim/{token}").get_data(as_text=True)

    assert again.status_code == 409
    assert "already claimed" in page


def test_claim_link_after_the_offer_ended_says_so(client, clock, now):
    event = make_event(capacity=1)
    _user, entry, token = _offer_for(client, event, now)
    clock.set(entry.offer_expires_at + timedelta(minutes=1))

    page = client.get(f"/waitlist/claim/{token}")
    claim = client.post(f"/waitlist/claim/{token}")

    assert "This offer has ended" in page.get_data(as_text=True)
    assert claim.status_code == 409
    assert fresh(entry).claimed_booking_id is None


def test_claim_link_needs_sign_in_as_its_owner(client, now):
    event = make_event(capacity=1)
    _user, _entry, token = _offer_for(client, event, now)
    other = make_user()

    login_as(client, other)
    assert client.get(f"/waitlist/claim/{token}").status_code == 404
    anonymous = client.application.test_client()
    assert anonymous.get(f"/waitlist/claim/{token}").status_code == 302


def test_declining_from_the_link_offers_the_next_person(client, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    first_user = make_user()
    first = join(event, 1, now, user=first_user)
    second = join(event, 1, now + timedelta(minutes=1))
    cancel(booking, now)
    token = claim_token(outbox("waitlist_offer", to=first_user.email)[0])
    login_as(client, first_user)

    response = client.post(f"/waitlist/claim/{token}/decline")

    assert response.status_code == 302
    assert fresh(first).status == WaitlistStatus.DECLINED.value
    assert fresh(second).status == WaitlistStatus.OFFERED.value
    assert services.position_of(fresh(second), now) == 1
