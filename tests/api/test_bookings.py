"""The bookings API: POST /events/<id>/bookings, GET /bookings/<ref>, POST .../cancel, GET /me/bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings.booking.models import Attendee, Booking
from bookings.extensions import db
from tests.api.conftest import bearer
from tests.support.factories import make_api_token, make_event, make_user

PATH = "/events/{event_id}/bookings"


def attendees(n: int) -> list[dict]:
    return [{"name": f"Delegate {i}", "email": f"delegate{i}@nhs.example"} for i in range(n)]


def rows() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Booking)),
        db.session.scalar(select(func.count()).select_from(Attendee)),
    )


def test_free_booking_is_confirmed_and_matches_the_document(client, user_token, openapi, clock):
    event = make_event(capacity=5)
    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": attendees(2), "payment": "free"},
        headers=bearer(user_token),
    )
    body = openapi.check_response(response, PATH, "post")
    assert response.status_code == 201
    assert body["status"] == "confirmed"
    assert body["payment_status"] == "not_required"
    assert body["hold_expires_at"] is None
    assert [a["name"] for a in body["attendees"]] == ["Delegate 0", "Delegate 1"]
    assert all(a["status"] == "active" for a in body["attendees"])
    assert "access_needs" not in body["attendees"][0]
    listed = client.get(f"/api/v1/events/{event.id}").get_json()
    assert listed["places_left"] == 3


def test_invoice_booking_with_purchase_order(client, user_token, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": attendees(1), "payment": "invoice", "purchase_order": "PO-991"},
        headers=bearer(user_token),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["payment_status"], body["purchase_order"]) == ("confirmed", "invoiced", "PO-991")
    assert body["total_pence"] == 9500


def test_sold_out_answers_409_with_places_left_and_writes_nothing(client, user_token, openapi, clock):
    event = make_event(capacity=2)
    before = rows()
    response = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(3)}, headers=bearer(user_token)
    )
    body = openapi.check_response(response, PATH, "post")
    assert response.status_code == 409
    assert body == {"error": "sold_out", "message": body["message"], "places_left": 2}
    assert rows() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"attendees": []}, "attendees"),
        ({"attendees": [{"name": "A"}]}, "attendees-0-email"),
        ({"attendees": [{"name": "", "email": "a@b.example"}]}, "attendees-0-name"),
        ({"attendees": [{"name": "A", "email": "not-an-email"}]}, "attendees-0-email"),
        ({"attendees": [{"name": "A", "email": "a@b.example", "shoe_size": 9}]}, "attendees-0-shoe_size"),
        ({"attendees": attendees(1), "payment": "cash"}, "payment"),
        ({"attendees": attendees(1), "ticket_type_id": "one"}, "ticket_type_id"),
        ({"attendees": attendees(1), "ticket_type_id": 999999}, "ticket_type_id"),
        ({"attendees": attendees(1), "colour": "blue"}, "colour"),
        ({"attendees": attendees(1), "payment": "invoice"}, "payment"),
    ],
)
def test_bad_input_answers_422_naming_the_field_and_writes_nothing(client, user_token, openapi, clock, payload, field):
    event = make_event(capacity=5)
    before = rows()
    response = client.post(f"/api/v1/events/{event.id}/bookings", json=payload, headers=bearer(user_token))
    body = openapi.check_response(response, PATH, "post")
    assert response.status_code == 422, body
    assert body["error"] == "invalid"
    assert field in body.get("errors", {}) or body.get("field") == field, body
    assert rows() == before


def test_booking_needs_a_token(client, clock):
    event = make_event()
    response = client.post(f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorised"


def test_draft_event_is_404_to_attendees(client, user_token, clock):
    event = make_event(status="draft")
    response = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(user_token)
    )
    assert response.status_code == 404


def test_closed_event_answers_409(client, user_token, clock):
    event = make_event(booking_closes_at=clock.now - timedelta(hours=1))
    response = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(user_token)
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "booking_closed"


def test_card_without_stripe_configured_is_refused_cleanly(client, user_token, clock):
    event = make_event(ticket_types=[{"name": "Standard", "price_pence": 5000}])
    before = rows()
    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": attendees(1), "payment": "card"},
        headers=bearer(user_token),
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "card_unavailable"
    assert rows() == before


def test_only_the_booker_or_an_admin_sees_a_booking(client, user_token, admin_token, openapi, clock):
    event = make_event()
    reference = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(user_token)
    ).get_json()["reference"]
    mine = client.get(f"/api/v1/bookings/{reference}", headers=bearer(user_token))
    openapi.check_response(mine, "/bookings/{reference}", "get")
    assert mine.status_code == 200
    stranger = make_api_token(make_user())
    assert client.get(f"/api/v1/bookings/{reference}", headers=bearer(stranger)).status_code == 404
    assert client.post(f"/api/v1/bookings/{reference}/cancel", headers=bearer(stranger)).status_code == 404
    admin_view = client.get(f"/api/v1/bookings/{reference}", headers=bearer(admin_token)).get_json()
    assert "access_needs" in admin_view["attendees"][0]
    assert client.get("/api/v1/bookings/BK-NOTREAL1", headers=bearer(user_token)).status_code == 404


def test_cancel_some_places_then_all(client, user_token, openapi, clock):
    event = make_event(capacity=3)
    booking = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(3)}, headers=bearer(user_token)
    ).get_json()
    first = booking["attendees"][0]["id"]
    response = client.post(
        f"/api/v1/bookings/{booking['reference']}/cancel", json={"attendee_ids": [first]}, headers=bearer(user_token)
    )
    body = openapi.check_response(response, "/bookings/{reference}/cancel", "post")
    assert body["status"] == "confirmed"
    assert [a["status"] for a in body["attendees"]] == ["cancelled", "active", "active"]
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 1
    everything = client.post(f"/api/v1/bookings/{booking['reference']}/cancel", headers=bearer(user_token))
    assert everything.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 3


def test_cancel_with_bad_attendee_ids_is_422(client, user_token, clock):
    event = make_event(capacity=3)
    reference = client.post(
        f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(2)}, headers=bearer(user_token)
    ).get_json()["reference"]
    for payload in ({"attendee_ids": "all"}, {"attendee_ids": []}, {"attendee_ids": [999999]}, {"nope": 1}):
        response = client.post(f"/api/v1/bookings/{reference}/cancel", json=payload, headers=bearer(user_token))
        assert response.status_code == 422, payload
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 1


def test_my_bookings_lists_only_mine(client, user_token, openapi, clock):
    event = make_event(capacity=5)
    client.post(f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(user_token))
    other = make_api_token(make_user())
    client.post(f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(other))
    response = client.get("/api/v1/me/bookings", headers=bearer(user_token))
    body = openapi.check_response(response, "/me/bookings", "get")
    assert len(body["upcoming"]) == 1
    assert body["past"] == []


def test_places_left_reflects_a_held_booking_until_it_expires(client, user_token, clock):
    from bookings.booking import services

    event = make_event(capacity=4)
    holder = make_user()
    services.hold_places(event_id=event.id, booker_id=holder.id, ticket_type_id=None, places=3, now=clock.now)
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 1
    clock.advance(minutes=31)
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 4


def test_full_event_shows_its_waiting_list_not_a_dead_end(client, user_token, clock):
    event = make_event(capacity=1)
    client.post(f"/api/v1/events/{event.id}/bookings", json={"attendees": attendees(1)}, headers=bearer(user_token))
    waiting = make_api_token(make_user())
    joined = client.post(f"/api/v1/events/{event.id}/waitlist", json={"places": 1}, headers=bearer(waiting))
    assert joined.status_code == 201
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert (body["places_left"], body["is_waitlist_open"], body["waitlist_length"]) == (0, True, 1)


def test_an_events_questions_are_in_the_api_and_answered_by_their_ids(client, user_token, openapi, clock):
    from bookings.catalogue.models import Question

    event = make_event(capacity=5)
    db.session.add_all(
        [
            Question(event_id=event.id, label="Employee number", kind="text", is_required=True, position=0),
            Question(event_id=event.id, label="Workshop", kind="choice", choices=["A", "B"], position=1),
        ]
    )
    db.session.commit()

    read = client.get(f"/api/v1/events/{event.id}")
    body = openapi.check_response(read, "/events/{event_id}", "get")
    listed = openapi.check_response(client.get("/api/v1/events"), "/events", "get")
    number, workshop = body["questions"]
    assert (number["label"], number["kind"], number["is_required"]) == ("Employee number", "text", True)
    assert (workshop["kind"], workshop["choices"], workshop["is_required"]) == ("choice", ["A", "B"], False)
    assert [e["questions"] for e in listed["events"] if e["id"] == event.id] == [body["questions"]]

    person = {"name": "Delegate", "email": "delegate@nhs.example"}
    refused = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": [person], "payment": "free"},
        headers=bearer(user_token),
    )
    assert refused.status_code == 422
    assert f"attendees-0-q{number['id']}" in refused.get_json()["errors"]
    answers = {str(number["id"]): "E123", str(workshop["id"]): "B"}
    booked = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": [dict(person, answers=answers)], "payment": "free"},
        headers=bearer(user_token),
    )
    assert booked.status_code == 201
    assert booked.get_json()["attendees"][0]["answers"] == answers
