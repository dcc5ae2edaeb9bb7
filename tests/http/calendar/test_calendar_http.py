"""Calendar URLs through the test client: types, filenames, 304s, who may see what, feed management."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from flask import render_template_string
from sqlalchemy import select

from bookings.calendar import services
from bookings.calendar.models import CalendarFeedToken
from bookings.extensions import db
from tests.conftest import login_as
from tests.integration.calendar.helpers import make_booking, move_session
from tests.support.confirm import link_hrefs, post_actions, read_confirm_page
from tests.support.factories import make_admin, make_event, make_user
from tests.unit.calendar.parsers import vobject_read

CALENDAR_TYPE = "text/calendar; charset=utf-8"


@pytest.fixture(autouse=True)
def _clock(clock):
    return clock


def _uids(response) -> set[str]:
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}


def test_event_file_served_as_calendar_attachment(client):
    event = make_event()
    response = client.get(f"/events/{event.slug}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR_TYPE
    assert response.headers["Content-Disposition"] == f'attachment; filename="{event.slug}.ics"'
    assert _uids(response) == {event.sessions[0].uid}
    assert vobject_read(response.data).vevent.uid.value == event.sessions[0].uid


def test_event_file_answers_304_to_matching_etag(client):
    event = make_event()
    first = client.get(f"/events/{event.slug}.ics")
    again = client.get(f"/events/{event.slug}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_event_file_answers_304_to_if_modified_since(client):
    event = make_event()
    first = client.get(f"/events/{event.slug}.ics")
    again = client.get(f"/events/{event.slug}.ics", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


def test_event_file_sent_again_after_change(client, clock):
    event = make_event()
    first = client.get(f"/events/{event.slug}.ics")
    clock.advance(minutes=5)
    move_session(event, 0, by=timedelta(hours=1))
    again = client.get(
        f"/events/{event.slug}.ics",
        headers={"If-None-Match": first.headers["ETag"], "If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]


def test_draft_event_file_not_found_for_public(client):
    assert client.get(f"/events/{make_event(status='draft').slug}.ics").status_code == 404


def test_draft_event_file_served_to_admin(client):
    event = make_event(status="draft")
    login_as(client, make_admin())
    assert client.get(f"/events/{event.slug}.ics").status_code == 200


def test_unknown_event_file_not_found(client):
    assert client.get("/events/no-such-event.ics").status_code == 404


def test_catalogue_feed_filters_by_kind(client):
    course = make_event(kind="course")
    make_event(kind="webinar")
    response = client.get("/events.ics?kind=course")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR_TYPE
    assert response.headers["Content-Disposition"] == 'inline; filename="events-course.ics"'
    assert _uids(response) == {course.sessions[0].uid}


def test_catalogue_feed_refuses_bad_kind_with_plain_message(client):
    response = client.get("/events.ics?kind=party")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/plain")
    assert b"Unknown kind" in response.data


def test_catalogue_feed_answers_304(client):
    make_event()
    first = client.get("/events.ics")
    assert client.get("/events.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_booking_file_served_to_booker(client):
    user = make_user()
    booking = make_booking(make_event(), user)
    login_as(client, user)
    response = client.get(f"/bookings/{booking.reference}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR_TYPE
    assert response.headers["Content-Disposition"] == f'attachment; filename="booking-{booking.reference}.ics"'
    assert "private" in response.headers["Cache-Control"]


def test_booking_file_served_to_admin(client):
    booking = make_booking(make_event(), make_user())
    login_as(client, make_admin())
    assert client.get(f"/bookings/{booking.reference}.ics").status_code == 200


def test_booking_file_not_found_for_someone_else(client):
    booking = make_booking(make_event(), make_user())
    login_as(client, make_user())
    assert client.get(f"/bookings/{booking.reference}.ics").status_code == 404


def test_booking_file_not_found_when_signed_out(client):
    booking = make_booking(make_event(), make_user())
    assert client.get(f"/bookings/{booking.reference}.ics").status_code == 404


def test_booking_file_answers_304(client):
    user = make_user()
    booking = make_booking(make_event(), user)
    login_as(client, user)
    first = client.get(f"/bookings/{booking.reference}.ics")
    again = client.get(f"/bookings/{booking.reference}.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_personal_feed_served_through_token(client, clock):
    user = make_user()
    booking = make_booking(make_event(), user)
    token = services.get_or_create_feed_token(user.id, clock.now)
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CALENDAR_TYPE
    assert response.headers["Content-Disposition"] == 'inline; filename="my-bookings.ics"'
    assert _uids(response) == {f"{booking.event.sessions[0].uid}-{booking.reference}"}


def test_personal_feed_answers_304_to_etag_and_to_date(client, clock):
    user = make_user()
    make_booking(make_event(), user)
    token = services.get_or_create_feed_token(user.id, clock.now)
    first = client.get(f"/calendar/{token}.ics")
    assert client.get(f"/calendar/{token}.ics", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert client.get(f"/calendar/{token}.ics", headers=since).status_code == 304


def test_revoked_feed_token_not_found(client, clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    services.revoke_feed_token(user.id, clock.now)
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_unknown_feed_token_not_found(client):
    assert client.get("/calendar/guessed-token.ics").status_code == 404


def test_regenerate_feed_replaces_address(client, clock):
    user = make_user()
    old = services.get_or_create_feed_token(user.id, clock.now)
    login_as(client, user)
    confirm = read_confirm_page(client.get("/account/calendar-feed").get_data(as_text=True))
    response = client.post(confirm.action)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")
    new = services.find_feed_token(user.id)
    assert new not in (None, old)
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_revoke_feed_turns_address_off(client, clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    login_as(client, user)
    confirm = read_confirm_page(client.get("/account/calendar-feed/revoke").get_data(as_text=True))
    assert client.post(confirm.action).status_code == 302
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert services.find_feed_token(user.id) is None


def test_feed_management_needs_sign_in(client):
    response = client.post("/account/calendar-feed")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert db.session.scalars(select(CalendarFeedToken)).all() == []


def test_feed_management_refuses_missing_csrf_token(csrf_app):
    client = csrf_app.test_client()
    login_as(client, make_user())
    assert client.post("/account/calendar-feed").status_code == 400
    assert db.session.scalars(select(CalendarFeedToken)).all() == []


def test_account_partial_links_to_confirmation_pages_not_forms_that_change_the_feed(app, clock):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    with app.test_request_context("/account", base_url="https://bookings.example"):
        html = render_template_string(
            '{% include "calendar/_account_feed.html" %}', calendar_feed=services.account_feed_links(user.id)
        )
    assert f'href="webcal://bookings.example/calendar/{token}.ics"' in html
    assert f'value="https://bookings.example/calendar/{token}.ics"' in html
    assert {"/account/calendar-feed", "/account/calendar-feed/revoke"} <= set(link_hrefs(html))
    assert post_actions(html) == []
    assert 'name="csrf_token"' not in html
    assert '<label class="govuk-label" for="calendar-feed-url">' in html


def test_account_partial_offers_to_create_feed_when_none(app):
    with app.test_request_context("/account"):
        html = render_template_string('{% include "calendar/_account_feed.html" %}', calendar_feed=None)
    assert "Create a feed address" in html
    assert post_actions(html) == ["/account/calendar-feed"]  # nothing to lose yet, so no question first
    assert "webcal://" not in html


@pytest.mark.parametrize(
    ("page", "question", "button", "cancel_text"),
    [
        (
            "/account/calendar-feed",
            "Are you sure you want to create a new calendar feed address?",
            "Yes, create a new address",
            "No, keep the current address",
        ),
        (
            "/account/calendar-feed/revoke",
            "Are you sure you want to turn off your calendar feed?",
            "Yes, turn off the feed",
            "No, keep the feed",
        ),
    ],
)
def test_feed_confirmation_pages_ask_first_and_post_to_the_action(client, clock, page, question, button, cancel_text):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    login_as(client, user)

    response = client.get(page)

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and question in html
    confirm = read_confirm_page(html)
    assert (confirm.action, confirm.button) == (page, button)
    assert (confirm.cancel_text, confirm.cancel_href) == (cancel_text, "/account#calendar-feed-heading")
    assert services.find_feed_token(user.id) == token  # asking changed nothing
    assert client.get(f"/calendar/{token}.ics").status_code == 200


@pytest.mark.parametrize("page", ["/account/calendar-feed", "/account/calendar-feed/revoke"])
def test_keeping_the_feed_changes_nothing(client, clock, page):
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    login_as(client, user)
    confirm = read_confirm_page(client.get(page).get_data(as_text=True))

    kept = client.get(confirm.cancel_href)

    assert kept.status_code == 200
    assert f"/calendar/{token}.ics" in kept.get_data(as_text=True)
    assert services.find_feed_token(user.id) == token


@pytest.mark.parametrize(
    ("page", "flash"),
    [
        ("/account/calendar-feed", "Your calendar feed has a new address."),
        ("/account/calendar-feed/revoke", "Your calendar feed address has been turned off."),
    ],
)
def test_confirming_a_feed_change_with_the_pages_csrf_token_does_it(csrf_app, clock, page, flash):
    client = csrf_app.test_client()
    user = make_user()
    token = services.get_or_create_feed_token(user.id, clock.now)
    login_as(client, user)

    confirm = read_confirm_page(client.get(page).get_data(as_text=True))
    done = client.post(confirm.action, data={"csrf_token": confirm.csrf_token}, follow_redirects=True)

    assert flash in done.get_data(as_text=True)
    assert services.find_feed_token(user.id) != token
    assert client.get(f"/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("page", ["/account/calendar-feed", "/account/calendar-feed/revoke"])
def test_feed_confirmation_without_a_feed_goes_back_to_the_account(client, page):
    login_as(client, make_user())

    response = client.get(page)

    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert db.session.scalars(select(CalendarFeedToken)).all() == []


def test_links_macro_gives_google_outlook_and_ics(app):
    event = make_event()
    with app.test_request_context(f"/events/{event.slug}"):
        html = render_template_string(
            '{% from "calendar/_links.html" import add_to_calendar_links %}{{ add_to_calendar_links(event) }}',
            event=event,
        )
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "https://outlook.office.com/calendar/0/deeplink/compose?" in html
    assert f'href="/events/{event.slug}.ics"' in html


def test_links_macro_lists_each_session_of_multi_session_event(app):
    event = make_event(days=2)
    with app.test_request_context(f"/events/{event.slug}"):
        html = render_template_string(
            '{% from "calendar/_links.html" import add_to_calendar_links %}{{ add_to_calendar_links(event) }}',
            event=event,
        )
    assert html.count("Add to Google Calendar<span") == 2
    assert "Download all sessions" in html


def test_links_macro_for_booking_links_booking_file(app):
    event = make_event(is_online=True, online_url="https://meet.example/room")
    booking = make_booking(event, make_user())
    with app.test_request_context(f"/bookings/{booking.reference}"):
        html = render_template_string(
            '{% from "calendar/_links.html" import add_to_calendar_links %}'
            "{{ add_to_calendar_links(event, booking=booking) }}",
            event=event,
            booking=booking,
        )
    assert f'href="/bookings/{booking.reference}.ics"' in html
    assert "meet.example" in html


def test_event_title_cannot_inject_property_into_served_file(client):
    event = make_event(title="Evil\r\nATTENDEE:mailto:x@y", venue_name="Hall\nORGANIZER:mailto:a@b")
    response = client.get(f"/events/{event.slug}.ics")
    [entry] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert "ATTENDEE" not in entry
    assert str(entry["ORGANIZER"]) == "mailto:events@bookings.example"
    assert str(entry["SUMMARY"]) == "Evil\nATTENDEE:mailto:x@y"
    assert "attendee" not in vobject_read(response.data).vevent.contents
