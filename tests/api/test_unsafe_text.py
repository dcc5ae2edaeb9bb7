"""Text the database cannot hold is refused when the body is read: lone surrogates (400) and control characters (422).

A JSON escape such as `\\ud800` decodes to a lone surrogate, which no UTF-8 database can store; PostgreSQL
refuses NUL in text. Either used to reach the flush and answer 500. Every endpoint reads its body through
`json_object()`, so these go through a few of them.
"""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from bookings.booking.models import Attendee, Booking
from bookings.extensions import db
from tests.api.conftest import bearer, row_counts
from tests.api.test_events_write import NEW_EVENT
from tests.support.factories import make_event

BOOKINGS = "/events/{event_id}/bookings"
# Each control character of C0 that a text field may not hold (tab, line feed and carriage return may).
CONTROL_CHARACTERS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f"]


def _raw_post(client, path: str, raw: str, token: str):
    """POST `raw` exactly as written: the test's JSON escapes reach the server as escapes."""
    return client.post(path, data=raw.encode("ascii"), headers={**bearer(token), "Content-Type": "application/json"})


def _booking_rows() -> tuple[int, int]:
    db.session.rollback()
    return (
        db.session.scalar(select(func.count()).select_from(Booking)),
        db.session.scalar(select(func.count()).select_from(Attendee)),
    )


@pytest.mark.parametrize(
    "attendees",
    [
        r'[{"name": "\ud800", "email": "a@b.example"}]',
        r'[{"name": "Ann \udfff Example", "email": "a@b.example"}]',
        r'[{"name": "Ann", "email": "a@b.example", "job_title": "\ud83d"}]',
        r'[{"name": "Ann", "email": "a@b.example", "\ud800": "x"}]',
        r'[{"name": "Ann", "email": "a@b.example", "answers": {"1": ["\ud800"]}}]',
    ],
    ids=["name", "inside-text", "half-an-emoji", "key", "nested"],
)
def test_lone_surrogate_in_a_booking_is_400_malformed_json_and_writes_nothing(
    client, clock, user_token, openapi, attendees
):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    before = _booking_rows()
    body = f'{{"attendees": {attendees}, "payment": "invoice", "billing_contact": "x", "billing_address": "y"}}'

    response = _raw_post(client, f"/api/v1/events/{event.id}/bookings", body, user_token)

    assert response.status_code == 400
    assert openapi.check_response(response, BOOKINGS, "post")["error"] == "malformed_json"
    assert "surrogate" in response.json["message"]
    assert _booking_rows() == before


def test_lone_surrogate_in_an_event_title_is_400_malformed_json_and_writes_nothing(client, clock, admin_token, openapi):
    before = row_counts()
    body = json.dumps({**NEW_EVENT, "title": "TITLE"}).replace('"TITLE"', r'"\ud800 bad"')

    response = _raw_post(client, "/api/v1/events", body, admin_token)

    assert response.status_code == 400
    assert openapi.check_response(response, "/events", "post")["error"] == "malformed_json"
    assert row_counts() == before


def test_lone_surrogate_in_an_event_change_is_400(client, clock, admin_token, openapi):
    event = make_event()
    response = client.patch(
        f"/api/v1/events/{event.id}",
        data=rb'{"summary": "\udc00"}',
        headers={**bearer(admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert openapi.check_response(response, "/events/{event_id}", "patch")["error"] == "malformed_json"


def test_a_surrogate_pair_is_a_character_and_is_accepted(client, clock, user_token):
    event = make_event()
    body = r'{"attendees": [{"name": "Ann \ud83d\ude00 Example", "email": "a@b.example"}], "payment": "free"}'

    response = _raw_post(client, f"/api/v1/events/{event.id}/bookings", body, user_token)

    assert response.status_code == 201
    assert response.json["attendees"][0]["name"] == "Ann \U0001f600 Example"


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS])
def test_control_character_in_an_attendee_is_422_naming_the_field_and_writes_nothing(
    client, clock, user_token, openapi, character
):
    event = make_event()
    before = _booking_rows()
    attendees = [
        {"name": "Ann Example", "email": "ann@b.example"},
        {"name": f"Bo{character}b", "email": "bob@b.example"},
    ]

    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        json={"attendees": attendees, "payment": "free"},
        headers=bearer(user_token),
    )

    assert response.status_code == 422
    body = openapi.check_response(response, BOOKINGS, "post")
    assert body["error"] == "invalid"
    assert list(body["errors"]) == ["attendees[1].name"]
    assert "control character" in body["errors"]["attendees[1].name"]
    assert _booking_rows() == before


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=[f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS])
def test_control_character_in_an_event_is_422_and_writes_nothing(client, clock, admin_token, openapi, character):
    before = row_counts()
    body = copy.deepcopy(NEW_EVENT)
    body["title"] = f"Safe{character}guarding"
    body["sessions"][1]["title"] = f"Day{character}2"

    response = client.post("/api/v1/events", json=body, headers=bearer(admin_token))

    assert response.status_code == 422
    assert openapi.check_response(response, "/events", "post")["errors"].keys() == {"title", "sessions[1].title"}
    assert row_counts() == before


def test_control_character_in_a_field_name_is_422(client, clock, admin_token):
    response = client.post("/api/v1/events", json={**NEW_EVENT, "ti\x00tle": "x"}, headers=bearer(admin_token))
    assert response.status_code == 422
    assert response.json["errors"] == {"ti\x00tle": response.json["errors"]["ti\x00tle"]}


def test_tabs_and_line_breaks_are_text(client, clock, admin_token):
    body = {
        **NEW_EVENT,
        "description": "Line one\r\nLine two\n\tindented",
        "venue_address": "1 Civic Square\nExampleton",
    }

    response = client.post("/api/v1/events", json=body, headers=bearer(admin_token))

    assert response.status_code == 201
    assert response.json["venue_address"] == "1 Civic Square\nExampleton"


def test_reference_with_a_nul_character_is_404(client, user_token, openapi):
    for response in (
        client.get("/api/v1/bookings/BK-%00X", headers=bearer(user_token)),
        client.post("/api/v1/bookings/BK-%00X/cancel", headers=bearer(user_token)),
    ):
        assert response.status_code == 404
        assert response.json["error"] == "not_found"


def test_surrogate_sent_as_utf8_bytes_is_400(client, clock, user_token):
    # Python's JSON decoder lets an encoded surrogate (ED A0 80) through as "\ud800", escape or not.
    event = make_event()
    body = b'{"attendees": [{"name": "Ann \xed\xa0\x80", "email": "a@b.example"}], "payment": "free"}'

    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        data=body,
        headers={**bearer(user_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json["error"] == "malformed_json"
    assert _booking_rows() == (0, 0)


def test_control_character_in_a_utf16_body_is_422(client, clock, user_token):
    event = make_event()
    body = json.dumps({"attendees": [{"name": "Ann\x00", "email": "a@b.example"}], "payment": "free"})

    response = client.post(
        f"/api/v1/events/{event.id}/bookings",
        data=body.encode("utf-16"),
        headers={**bearer(user_token), "Content-Type": "application/json"},
    )

    assert response.status_code == 422
    assert list(response.json["errors"]) == ["attendees[0].name"]
