"""The waiting list through the API: join, list mine, claim (single use, not after expiry), decline, leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.booking.models import Booking, BookingStatus
from bookings.extensions import db
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.api.conftest import bearer
from tests.api.places import add_places
from tests.integration.waitlist.helpers import book, cancel, fresh, join
from tests.support.factories import make_api_token, make_event, make_user


@pytest.fixture
def now(clock):
    return clock.now


def _offered_entry(event, user, now):
    booking = book(event, 1, now)
    entry = join(event, 1, now, user=user)
    cancel(booking, now)
    return fresh(entry)


def test_join_a_full_event_answers_201_with_position(client, openapi, user, user_token, now):
    event = make_event(capacity=1)
    add_places(event, 1)
    join(event, 1, now)

    response = client.post(f"/api/v1/events/{event.id}/waitlist", json={"places": 2}, headers=bearer(user_token))

    body = openapi.check_response(response, "/events/{event_id}/waitlist", "post")
    assert response.status_code == 201
    assert body["status"] == "waiting"
    assert body["position"] == 2
    assert body["id"] == db.session.scalars(db.select(WaitlistEntry.id).order_by(WaitlistEntry.id.desc())).first()


def test_join_while_enough_places_are_left_is_409(client, openapi, user_token):
    event = make_event(capacity=3)
    add_places(event, 1)

    response = client.post(f"/api/v1/events/{event.id}/waitlist", json={"places": 2}, headers=bearer(user_token))

    body = openapi.check_response(response, "/events/{event_id}/waitlist", "post")
    assert response.status_code == 409
    assert body["error"] == "places_available"


def test_join_twice_is_409(client, user_token):
    event = make_event(capacity=1)
    add_places(event, 1)
    url = f"/api/v1/events/{event.id}/waitlist"
    client.post(url, json={"places": 1}, headers=bearer(user_token))

    response = client.post(url, json={"places": 1}, headers=bearer(user_token))

    assert response.status_code == 409
    assert response.get_json()["error"] == "already_on_waitlist"


def test_join_with_bad_places_is_422_and_writes_nothing(client, openapi, user_token):
    event = make_event(capacity=1)
    add_places(event, 1)

    response = client.post(
        f"/api/v1/events/{event.id}/waitlist", json={"places": "two", "colour": "red"}, headers=bearer(user_token)
    )

    body = openapi.check_response(response, "/events/{event_id}/waitlist", "post")
    assert response.status_code == 422
    assert set(body["errors"]) == {"places", "colour"}
    assert db.session.scalar(db.select(db.func.count()).select_from(WaitlistEntry)) == 0


def test_full_event_shows_its_waiting_list_in_the_catalogue(client, openapi, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    join(event, 1, now)

    response = client.get(f"/api/v1/events/{event.id}")

    body = openapi.check_response(response, "/events/{event_id}", "get")
    assert (body["places_left"], body["is_waitlist_open"]) == (0, True)


def test_join_needs_a_token(client):
    event = make_event(capacity=1)

    assert client.post(f"/api/v1/events/{event.id}/waitlist", json={"places": 1}).status_code == 401


def test_join_a_draft_event_is_404(client, user_token):
    event = make_event(capacity=1, status="draft")

    response = client.post(f"/api/v1/events/{event.id}/waitlist", json={"places": 1}, headers=bearer(user_token))

    assert response.status_code == 404


def test_my_waitlist_lists_status_position_and_offer_expiry(client, openapi, user, user_token, now):
    waiting_event = make_event(capacity=1)
    book(waiting_event, 1, now)
    join(waiting_event, 1, now)
    join(waiting_event, 1, now + timedelta(minutes=1), user=user)
    offered = _offered_entry(make_event(capacity=1), user, now)

    response = client.get("/api/v1/me/waitlist", headers=bearer(user_token))

    body = openapi.check_response(response, "/me/waitlist", "get")
    by_id = {e["id"]: e for e in body["entries"]}
    assert by_id[offered.id]["status"] == "offered"
    assert by_id[offered.id]["offer_expires_at"] is not None
    waiting = next(e for e in body["entries"] if e["event_id"] == waiting_event.id)
    assert (waiting["status"], waiting["position"], waiting["offer_expires_at"]) == ("waiting", 2, None)


def test_my_waitlist_reads_a_lapsed_offer_as_expired_before_any_sweep(client, clock, user, user_token, now):
    entry = _offered_entry(make_event(capacity=1), user, now)
    clock.set(entry.offer_expires_at)

    body = client.get("/api/v1/me/waitlist", headers=bearer(user_token)).get_json()

    assert [(e["status"], e["position"]) for e in body["entries"]] == [("expired", None)]


def test_claim_holds_the_places_and_answers_like_a_booking(client, user, user_token, now):
    entry = _offered_entry(make_event(capacity=1), user, now)

    response = client.post(f"/api/v1/waitlist/{entry.id}/claim", headers=bearer(user_token))

    # Not checked against the Booking schema yet: it does not allow a null payment_method (reported).
    body = response.get_json()
    assert response.status_code == 201
    assert {"reference", "status", "payment_status", "hold_expires_at", "attendees"} <= set(body)
    assert body["status"] == "held"
    assert body["hold_expires_at"] is not None
    assert len(body["attendees"]) == 1
    assert fresh(entry).status == WaitlistStatus.CLAIMED.value


def test_claim_with_attendees_confirms_a_free_booking(client, openapi, user, user_token, now):
    entry = _offered_entry(make_event(capacity=1), user, now)

    response = client.post(
        f"/api/v1/waitlist/{entry.id}/claim",
        json={"attendees": [{"name": "Ada Lovelace", "email": "ada@council.example"}], "payment": "free"},
        headers=bearer(user_token),
    )

    body = openapi.check_response(response, "/waitlist/{entry_id}/claim", "post")
    assert response.status_code == 201
    assert (body["status"], body["payment_status"]) == ("confirmed", "not_required")
    assert body["attendees"][0]["name"] == "Ada Lovelace"
    booking = db.session.scalars(db.select(Booking).where(Booking.reference == body["reference"])).one()
    assert booking.status == BookingStatus.CONFIRMED.value


def test_claim_with_more_attendees_than_places_is_422_and_keeps_the_offer(client, user, user_token, now):
    event = make_event(capacity=1)
    entry = _offered_entry(event, user, now)  # one place offered

    response = client.post(
        f"/api/v1/waitlist/{entry.id}/claim",
        json={"attendees": [{"name": "A", "email": "a@x.example"}, {"name": "B", "email": "b@x.example"}]},
        headers=bearer(user_token),
    )

    assert response.status_code == 422
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


def test_claim_twice_is_409_offer_used_naming_the_booking(client, user, user_token, now):
    entry = _offered_entry(make_event(capacity=1), user, now)
    claimed = client.post(f"/api/v1/waitlist/{entry.id}/claim", headers=bearer(user_token)).get_json()

    response = client.post(f"/api/v1/waitlist/{entry.id}/claim", headers=bearer(user_token))

    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "offer_used"
    assert body["booking_reference"] == claimed["reference"]
    assert client.get(f"/api/v1/bookings/{body['booking_reference']}", headers=bearer(user_token)).status_code == 200


def test_claim_after_expiry_is_409_offer_expired(client, clock, openapi, user, user_token, now):
    entry = _offered_entry(make_event(capacity=1), user, now)
    clock.set(entry.offer_expires_at + timedelta(seconds=1))

    response = client.post(f"/api/v1/waitlist/{entry.id}/claim", headers=bearer(user_token))

    body = openapi.check_response(response, "/waitlist/{entry_id}/claim", "post")
    assert response.status_code == 409
    assert body["error"] == "offer_expired"


def test_claim_of_someone_elses_offer_is_404(client, user, now):
    entry = _offered_entry(make_event(capacity=1), user, now)
    other_token = make_api_token(make_user())

    response = client.post(f"/api/v1/waitlist/{entry.id}/claim", headers=bearer(other_token))

    assert response.status_code == 404
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


def test_decline_passes_the_offer_on(client, openapi, user, user_token, now):
    event = make_event(capacity=1)
    entry = _offered_entry(event, user, now)
    next_in_line = join(event, 1, now + timedelta(minutes=1))

    response = client.post(f"/api/v1/waitlist/{entry.id}/decline", headers=bearer(user_token))

    body = openapi.check_response(response, "/waitlist/{entry_id}/decline", "post")
    assert (body["status"], body["declined"]) == ("withdrawn", True)  # the five statuses only
    assert fresh(entry).status == WaitlistStatus.DECLINED.value  # kept apart inside, for the console
    assert fresh(next_in_line).status == WaitlistStatus.OFFERED.value


def test_delete_leaves_the_list(client, openapi, user, user_token, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now, user=user)

    response = client.delete(f"/api/v1/waitlist/{entry.id}", headers=bearer(user_token))
    again = client.delete(f"/api/v1/waitlist/{entry.id}", headers=bearer(user_token))

    body = openapi.check_response(response, "/waitlist/{entry_id}", "delete")
    assert (body["status"], body["position"]) == ("withdrawn", None)
    assert again.status_code == 200
    assert fresh(entry).status == WaitlistStatus.WITHDRAWN.value


def test_delete_someone_elses_entry_is_404(client, user_token, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now)

    assert client.delete(f"/api/v1/waitlist/{entry.id}", headers=bearer(user_token)).status_code == 404
    assert fresh(entry).status == WaitlistStatus.WAITING.value
