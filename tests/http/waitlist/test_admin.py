"""Organisers' waiting-list pages: positions and offer states, offers by hand, capacity, close, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from bookings.catalogue.models import Event
from bookings.extensions import db
from bookings.waitlist.models import WaitlistStatus
from tests.conftest import login_as
from tests.integration.waitlist.helpers import book, fresh, join, outbox
from tests.support.factories import make_admin, make_event, make_user


@pytest.fixture
def now(clock):
    return clock.now


@pytest.fixture
def full_event(now):
    event = make_event(capacity=2)
    book(event, 2, now)
    return event


def _url(event, suffix=""):
    return f"/admin/events/{event.id}/waitlist{suffix}"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", ".csv"), ("post", "/status"), ("post", "/send-offers"), ("post", "/capacity")],
)
def test_admin_pages_send_anonymous_visitors_to_sign_in(client, full_event, method, suffix):
    response = getattr(client, method)(_url(full_event, suffix))

    assert response.status_code == 302
    assert "next=" in response.headers["Location"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", ".csv"), ("post", "/status"), ("post", "/send-offers"), ("post", "/capacity")],
)
def test_admin_pages_are_forbidden_to_attendees(client, full_event, method, suffix):
    login_as(client, make_user())

    assert getattr(client, method)(_url(full_event, suffix)).status_code == 403
    assert db.session.get(Event, full_event.id).is_waitlist_open


def test_list_shows_positions_and_offer_states(client, full_event, now):
    first = join(full_event, 3, now, user=make_user(name="Grace Hopper"))
    join(full_event, 1, now + timedelta(minutes=1), user=make_user(name="Alan Turing"))
    login_as(client, make_admin())
    client.post(_url(full_event, "/capacity"), data={"capacity": "3"})  # one place: only the single fits

    html = client.get(_url(full_event)).get_data(as_text=True)

    assert html.index("Grace Hopper") < html.index("Alan Turing")
    assert "Waiting" in html and "Offered" in html
    assert fresh(first).status == WaitlistStatus.WAITING.value


def test_raising_capacity_sends_offers_at_once(client, full_event, now):
    user = make_user()
    entry = join(full_event, 1, now, user=user)
    login_as(client, make_admin())

    response = client.post(_url(full_event, "/capacity"), data={"capacity": "3"})

    assert response.status_code == 302
    assert fresh(entry).status == WaitlistStatus.OFFERED.value
    assert len(outbox("waitlist_offer", to=user.email)) == 1


def test_capacity_that_is_not_a_number_is_refused_with_an_error_summary(client, full_event):
    login_as(client, make_admin())

    response = client.post(_url(full_event, "/capacity"), data={"capacity": "lots"})

    assert response.status_code == 422
    assert 'href="#capacity"' in response.get_data(as_text=True)
    assert db.session.get(Event, full_event.id).capacity == 2


def test_admin_offers_places_by_hand_to_a_chosen_entry(client, full_event, now):
    first = join(full_event, 1, now)
    chosen = join(full_event, 1, now + timedelta(minutes=1))
    event = db.session.get(Event, full_event.id)
    event.capacity = 3  # freed without running the list, so the admin chooses
    db.session.commit()
    login_as(client, make_admin())

    client.post(_url(full_event, f"/{chosen.id}/offer"))

    assert fresh(chosen).status == WaitlistStatus.OFFERED.value
    assert fresh(first).status == WaitlistStatus.WAITING.value


def test_offer_by_hand_without_free_places_explains_and_changes_nothing(client, full_event, now):
    entry = join(full_event, 1, now)
    login_as(client, make_admin())

    response = client.post(_url(full_event, f"/{entry.id}/offer"), follow_redirects=True)

    assert "not enough free places" in response.get_data(as_text=True)
    assert fresh(entry).status == WaitlistStatus.WAITING.value


def test_closing_the_list_stops_people_joining_and_reopening_allows_it(client, full_event):
    login_as(client, make_admin())
    client.post(_url(full_event, "/status"), data={"open": "0"})
    assert not db.session.get(Event, full_event.id).is_waitlist_open

    login_as(client, make_user())
    refused = client.post(f"/events/{full_event.slug}/waitlist", data={"places": "1", "has_email_consent": "yes"})
    assert refused.status_code == 422
    assert "closed" in refused.get_data(as_text=True)

    login_as(client, make_admin())
    client.post(_url(full_event, "/status"), data={"open": "1"})
    db.session.rollback()
    assert db.session.get(Event, full_event.id).is_waitlist_open


def test_csv_export_lists_entries_in_line_order_and_defuses_formulas(client, full_event, now):
    join(full_event, 2, now, user=make_user(name="=HYPERLINK(1)"))
    join(full_event, 1, now + timedelta(minutes=1), user=make_user(name="Ada Lovelace"))
    login_as(client, make_admin())

    response = client.get(_url(full_event, ".csv"))

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["position"], r["name"], r["places"], r["status"]) for r in rows] == [
        ("1", "'=HYPERLINK(1)", "2", "waiting"),
        ("2", "Ada Lovelace", "1", "waiting"),
    ]
