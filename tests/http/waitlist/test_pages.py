"""The waiting list pages: join from a full event, see your position, leave or decline (each asked first), claim."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.conftest import login_as
from tests.integration.waitlist.helpers import book, cancel, claim_token, fresh, join, outbox
from tests.support.confirm import link_hrefs, post_actions, read_confirm_page
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


def _second_in_line(client, now, title="Data protection basics"):
    """A signed-in user 2nd in line on a full event; returns the entry."""
    event = make_event(capacity=1, title=title)
    book(event, 1, now)
    join(event, 1, now)
    user = make_user()
    entry = join(event, 1, now + timedelta(minutes=1), user=user)
    login_as(client, user)
    return entry


def test_my_waiting_lists_shows_the_position_and_leaving_works(client, now):
    entry = _second_in_line(client, now)

    page = client.get("/my-waiting-lists").get_data(as_text=True)
    confirm = client.get(f"/waitlist/{entry.id}/leave")
    left = client.post(read_confirm_page(confirm.get_data(as_text=True)).action)

    assert "Data protection basics" in page and "You are 2nd in line" in page
    assert left.status_code == 302
    assert fresh(entry).status == WaitlistStatus.WITHDRAWN.value
    assert "You are 2nd in line" not in client.get("/my-waiting-lists").get_data(as_text=True)


def test_my_waiting_lists_links_to_a_confirmation_page_not_a_form_that_leaves(client, now):
    entry = _second_in_line(client, now)

    page = client.get("/my-waiting-lists").get_data(as_text=True)

    assert f"/waitlist/{entry.id}/leave" in link_hrefs(page)
    assert post_actions(page) == []
    assert '<caption class="govuk-table__caption govuk-visually-hidden">' in page


def test_the_events_waiting_list_page_links_to_the_confirmation_and_back(client, now):
    entry = _second_in_line(client, now)
    slug = fresh(entry).event.slug

    page = client.get(f"/events/{slug}/waitlist").get_data(as_text=True)
    confirm = read_confirm_page(client.get(f"/waitlist/{entry.id}/leave?back=event").get_data(as_text=True))

    assert f"/waitlist/{entry.id}/leave?back=event" in link_hrefs(page)
    assert f"/waitlist/{entry.id}/leave" not in post_actions(page)
    assert confirm.cancel_href == f"/events/{slug}/waitlist"


def test_leave_confirmation_names_the_event_and_posts_to_leave(client, now):
    entry = _second_in_line(client, now)

    response = client.get(f"/waitlist/{entry.id}/leave")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Are you sure you want to leave the waiting list for Data protection basics?" in html
    assert "You are 2nd in line" in html
    confirm = read_confirm_page(html)
    assert confirm.action == f"/waitlist/{entry.id}/leave"
    assert confirm.button == "Yes, leave the waiting list"
    assert (confirm.cancel_text, confirm.cancel_href) == ("No, keep my place", "/my-waiting-lists")
    assert fresh(entry).status == WaitlistStatus.WAITING.value  # asking changed nothing


def test_confirming_leaves_the_list_with_the_pages_csrf_token(csrf_app, clock):
    client = csrf_app.test_client()
    entry = _second_in_line(client, clock.now)

    confirm = read_confirm_page(client.get(f"/waitlist/{entry.id}/leave").get_data(as_text=True))
    refused = client.post(confirm.action)
    left = client.post(confirm.action, data={"csrf_token": confirm.csrf_token}, follow_redirects=True)

    assert refused.status_code == 400
    assert left.status_code == 200
    assert "You have left the waiting list for Data protection basics." in left.get_data(as_text=True)
    assert fresh(entry).status == WaitlistStatus.WITHDRAWN.value


def test_keep_my_place_changes_nothing(client, now):
    entry = _second_in_line(client, now)
    confirm = read_confirm_page(client.get(f"/waitlist/{entry.id}/leave").get_data(as_text=True))

    kept = client.get(confirm.cancel_href)

    assert kept.status_code == 200
    assert "You are 2nd in line" in kept.get_data(as_text=True)
    assert fresh(entry).status == WaitlistStatus.WAITING.value
    assert services.position_of(fresh(entry), now) == 2


def test_leave_confirmation_for_an_entry_already_left_says_so(client, now):
    entry = _second_in_line(client, now)
    client.post(f"/waitlist/{entry.id}/leave")

    response = client.get(f"/waitlist/{entry.id}/leave", follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.request.path == "/my-waiting-lists"
    assert "You have already left the waiting list for Data protection basics." in html
    assert post_actions(html) == []


def test_leave_confirmation_for_an_offer_that_ran_out_says_you_are_off_the_list(client, clock, now):
    event = make_event(capacity=1, title="Risk assessment")
    _user, entry, _token = _offer_for(client, event, now)
    clock.set(entry.offer_expires_at + timedelta(minutes=1))

    response = client.get(f"/waitlist/{entry.id}/leave", follow_redirects=True)

    assert response.request.path == "/my-waiting-lists"
    assert "You are no longer on the waiting list for Risk assessment." in response.get_data(as_text=True)


def test_leave_confirmation_while_offered_says_the_places_go_to_the_next_person(client, now):
    event = make_event(capacity=1, title="Risk assessment")
    _user, entry, _token = _offer_for(client, event, now)

    html = client.get(f"/waitlist/{entry.id}/leave").get_data(as_text=True)

    assert "We are keeping 1 place for you until" in html
    assert "it goes to the next person in line straight away" in html


def test_leaving_someone_elses_entry_is_not_found(client, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now)
    login_as(client, make_user())

    assert client.get(f"/waitlist/{entry.id}/leave").status_code == 404
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


def test_the_offer_page_links_to_a_confirmation_page_not_a_form_that_declines(client, now):
    event = make_event(capacity=1)
    _user, _entry, token = _offer_for(client, event, now)

    page = client.get(f"/waitlist/claim/{token}").get_data(as_text=True)

    assert f"/waitlist/claim/{token}/decline" in link_hrefs(page)
    assert post_actions(page) == [f"/waitlist/claim/{token}"]  # only the claim form


def test_decline_confirmation_names_the_event_and_posts_to_decline(client, now):
    event = make_event(capacity=1, title="Risk assessment")
    _user, entry, token = _offer_for(client, event, now)

    response = client.get(f"/waitlist/claim/{token}/decline")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Are you sure you want to decline the places at Risk assessment?" in html
    confirm = read_confirm_page(html)
    assert confirm.action == f"/waitlist/claim/{token}/decline"
    assert confirm.button == "Yes, decline the offer"
    assert (confirm.cancel_text, confirm.cancel_href) == ("No, go back to the offer", f"/waitlist/claim/{token}")
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


def test_confirming_the_decline_with_the_pages_csrf_token_declines(csrf_app, clock):
    client = csrf_app.test_client()
    event = make_event(capacity=1, title="Risk assessment")
    _user, entry, token = _offer_for(client, event, clock.now)

    confirm = read_confirm_page(client.get(f"/waitlist/claim/{token}/decline").get_data(as_text=True))
    declined = client.post(confirm.action, data={"csrf_token": confirm.csrf_token})

    assert declined.status_code == 302
    assert fresh(entry).status == WaitlistStatus.DECLINED.value


def test_going_back_to_the_offer_keeps_it(client, now):
    event = make_event(capacity=1)
    _user, entry, token = _offer_for(client, event, now)
    confirm = read_confirm_page(client.get(f"/waitlist/claim/{token}/decline").get_data(as_text=True))

    back = client.get(confirm.cancel_href)

    assert back.status_code == 200 and "Claim 1 place" in back.get_data(as_text=True)
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


def test_decline_confirmation_of_an_ended_offer_goes_to_the_offer_page(client, clock, now):
    event = make_event(capacity=1)
    _user, entry, token = _offer_for(client, event, now)
    clock.set(entry.offer_expires_at + timedelta(minutes=1))

    response = client.get(f"/waitlist/claim/{token}/decline", follow_redirects=True)

    assert response.request.path == f"/waitlist/claim/{token}"
    assert "This offer has ended" in response.get_data(as_text=True)


def test_decline_confirmation_of_someone_elses_offer_is_not_found(client, now):
    event = make_event(capacity=1)
    _user, entry, token = _offer_for(client, event, now)
    login_as(client, make_user())

    assert client.get(f"/waitlist/claim/{token}/decline").status_code == 404
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


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
