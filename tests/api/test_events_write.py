"""POST /events and PATCH /events/<id>: admins write events; bad input is refused whole."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.catalogue.models import Event, EventSession, TicketType
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from tests.api.conftest import bearer, row_counts
from tests.api.places import add_places
from tests.support.factories import make_event

NEW_EVENT = {
    "title": "Safeguarding adults: level 2",
    "kind": "course",
    "status": "published",
    "timezone": "Europe/London",
    "capacity": 24,
    "summary": "For staff who work with adults at risk.",
    "venue_name": "Civic Centre",
    "venue_address": "1 Civic Square, Exampleton",
    "sessions": [
        {"title": "Day 1", "starts_at": "2027-03-27T09:30:00+00:00", "ends_at": "2027-03-27T16:30:00+00:00"},
        {"title": "Day 2", "starts_at": "2027-03-28T09:30", "ends_at": "2027-03-28T16:30"},
    ],
    "ticket_types": [
        {"name": "Public sector", "price_pence": 12000, "vat_rate_bp": 2000},
        {"name": "Early bird", "price_pence": 9000, "cap": 5, "sale_ends_at": "2027-02-01T00:00:00Z"},
    ],
    "max_places_per_booking": 6,
    "allow_invoice": True,
}


def _post(client, token, body):
    return client.post("/api/v1/events", json=body, headers=bearer(token))


def _patch(client, token, event_id, body):
    return client.patch(f"/api/v1/events/{event_id}", json=body, headers=bearer(token))


def test_example_event_matches_the_documented_request_schema(openapi):
    assert openapi.request_errors(NEW_EVENT, "/events", "post") == []


def test_admin_creates_event_with_sessions_and_rates(client, clock, admin, admin_token, openapi):
    response = _post(client, admin_token, NEW_EVENT)
    assert response.status_code == 201
    body = openapi.check_response(response, "/events", "post")
    assert response.headers["Location"].endswith(f"/api/v1/events/{body['id']}")
    assert body["slug"] == "safeguarding-adults-level-2"
    assert body["status"] == "published" and body["capacity"] == 24 and body["places_left"] == 24
    # 2027-03-28 is after the clocks go forward: the naive time is read in Europe/London.
    assert [(s["title"], s["starts_at"]) for s in body["sessions"]] == [
        ("Day 1", "2027-03-27T09:30:00+00:00"),
        ("Day 2", "2027-03-28T09:30:00+01:00"),
    ]
    assert body["starts_at"] == "2027-03-27T09:30:00+00:00" and body["ends_at"] == "2027-03-28T16:30:00+01:00"
    assert [(t["name"], t["price_pence"], t["cap"]) for t in body["ticket_types"]] == [
        ("Public sector", 12000, None),
        ("Early bird", 9000, 5),
    ]
    event = db.session.get(Event, body["id"])
    assert all(s.uid.endswith("@bookings") and len(s.uid) > 40 for s in event.sessions)
    assert len({s.uid for s in event.sessions}) == 2
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.event_id == event.id)).all()
    assert [(a.action, a.actor_id) for a in audit] == [("event.created", admin.id)]


def test_created_event_appears_in_the_public_catalogue(client, clock, admin_token):
    _post(client, admin_token, NEW_EVENT)
    assert [e["title"] for e in client.get("/api/v1/events").get_json()["events"]] == [NEW_EVENT["title"]]


def test_minimal_event_takes_the_defaults(client, clock, admin_token):
    body = {k: NEW_EVENT[k] for k in ("title", "capacity", "sessions", "ticket_types")}
    created = _post(client, admin_token, body).get_json()
    assert created["status"] == "draft" and created["kind"] == "course" and created["timezone"] == "Europe/London"
    assert created["ticket_types"][0]["currency"] == "GBP" and created["ticket_types"][0]["vat_rate_bp"] == 2000


def test_slug_made_from_a_taken_title_gets_a_number(client, clock, admin_token):
    first = _post(client, admin_token, NEW_EVENT).get_json()
    second = _post(client, admin_token, NEW_EVENT).get_json()
    assert (first["slug"], second["slug"]) == ("safeguarding-adults-level-2", "safeguarding-adults-level-2-2")


def test_taken_slug_given_explicitly_is_422(client, clock, admin_token):
    make_event(slug="taken")
    before = row_counts()
    response = _post(client, admin_token, {**NEW_EVENT, "slug": "taken"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"slug": "Already in use."}
    assert row_counts() == before


def _without(key):
    body = copy.deepcopy(NEW_EVENT)
    del body[key]
    return body


def _with(**changes):
    body = copy.deepcopy(NEW_EVENT)
    body.update(changes)
    return body


def _session(**changes):
    return _with(sessions=[{**NEW_EVENT["sessions"][0], **changes}])


def _rate(**changes):
    return _with(ticket_types=[{**NEW_EVENT["ticket_types"][0], **changes}])


INVALID_BODIES = [
    (_without("title"), "title"),
    (_with(title="   "), "title"),
    (_with(title="x" * 201), "title"),
    (_without("capacity"), "capacity"),
    (_with(capacity=-1), "capacity"),
    (_with(capacity="ten"), "capacity"),
    (_with(capacity=True), "capacity"),
    (_with(capacity=2.5), "capacity"),
    (_with(kind="party"), "kind"),
    (_with(status="cancelled"), "status"),
    (_with(timezone="Mars/Olympus_Mons"), "timezone"),
    (_with(timezone="../../etc/passwd"), "timezone"),
    (_with(slug="Not A Slug"), "slug"),
    (_with(online_url="javascript:alert(1)"), "online_url"),
    (_with(is_online="yes"), "is_online"),
    (_with(max_places_per_booking=0), "max_places_per_booking"),
    (_with(booking_opens_at="2027-02-01T09:00Z", booking_closes_at="2027-01-01T09:00Z"), "booking_closes_at"),
    (_with(booking_opens_at="next tuesday"), "booking_opens_at"),
    (_without("sessions"), "sessions"),
    (_with(sessions=[]), "sessions"),
    (_with(sessions="monday"), "sessions"),
    (_with(sessions=["monday"]), "sessions[0]"),
    (_session(ends_at="2027-03-27T09:00:00+00:00"), "sessions[0].ends_at"),
    (_session(starts_at="2027-03-27"), "sessions[0].starts_at"),
    (_session(room="B"), "sessions[0].room"),
    (_session(id=1), "sessions[0].id"),
    (_with(sessions=[{"starts_at": "2027-03-27T09:30:00Z"}]), "sessions[0].ends_at"),
    (_without("ticket_types"), "ticket_types"),
    (_with(ticket_types=[]), "ticket_types"),
    (_rate(price_pence=-100), "ticket_types[0].price_pence"),
    (_rate(price_pence=12.5), "ticket_types[0].price_pence"),
    (_rate(currency="POUNDS"), "ticket_types[0].currency"),
    (_rate(vat_rate_bp=20001), "ticket_types[0].vat_rate_bp"),
    (_rate(cap=-1), "ticket_types[0].cap"),
    (_rate(sale_starts_at="2027-02-01T00:00Z", sale_ends_at="2027-01-01T00:00Z"), "ticket_types[0].sale_ends_at"),
    (_with(ticket_types=[{"price_pence": 0}]), "ticket_types[0].name"),
    (_with(ticket_types=[{"name": "A", "price_pence": 0}, {"name": "a", "price_pence": 0}]), "ticket_types"),
    (_rate(price_pence=10**30), "ticket_types[0].price_pence"),
    (_rate(cap=2**31), "ticket_types[0].cap"),
    (_session(starts_at="0001-01-01T00:00:00+01:00"), "sessions[0].starts_at"),
    (_with(tittle="typo"), "tittle"),
    (_with(places_left=3), "places_left"),
    (_with(questions=[{"label": "Employee number", "kind": "text"}]), "questions"),  # read-only: asked in the console
    (_with(waitlist_length=0), "waitlist_length"),
]


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES, ids=[f for _, f in INVALID_BODIES])
def test_invalid_event_is_422_naming_the_field_and_writes_nothing(client, clock, admin_token, openapi, body, field):
    before = row_counts()
    response = _post(client, admin_token, body)
    assert response.status_code == 422
    error = openapi.check_response(response, "/events", "post")
    assert error["error"] == "invalid"
    assert field in error["errors"], error["errors"]
    assert row_counts() == before


def test_every_invalid_field_is_reported_at_once(client, clock, admin_token):
    body = _with(capacity=-5, kind="party", timezone="Nowhere", ticket_types=[{"name": "", "price_pence": -1}])
    errors = _post(client, admin_token, body).get_json()["errors"]
    assert set(errors) == {"capacity", "kind", "timezone", "ticket_types[0].name", "ticket_types[0].price_pence"}


def test_malformed_json_is_400(client, admin_token, openapi):
    before = row_counts()
    response = client.post(
        "/api/v1/events", data='{"title": ', content_type="application/json", headers=bearer(admin_token)
    )
    assert response.status_code == 400
    assert openapi.check_response(response, "/events", "post")["error"] == "malformed_json"
    assert row_counts() == before


@pytest.mark.parametrize("body", ["[]", '"event"', "null", "NaN"])
def test_body_that_is_not_an_object_is_400(client, admin_token, body):
    response = client.post("/api/v1/events", data=body, content_type="application/json", headers=bearer(admin_token))
    assert response.status_code == 400
    assert response.get_json()["error"] in {"not_an_object", "malformed_json"}


def test_form_encoded_body_is_415(client, admin_token, openapi):
    response = client.post("/api/v1/events", data={"title": "x"}, headers=bearer(admin_token))
    assert response.status_code == 415
    assert openapi.check_response(response, "/events", "post")["error"] == "unsupported_media_type"


def test_body_over_the_size_limit_is_413(app, client, admin_token, openapi):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = json.dumps({**NEW_EVENT, "description": "x" * 2000})
    response = client.post("/api/v1/events", data=big, content_type="application/json", headers=bearer(admin_token))
    assert response.status_code == 413
    assert openapi.check_response(response, "/events", "post")["error"] == "too_large"


def test_unsupported_method_is_405_json_with_allow(client, admin_token):
    event = make_event()
    response = client.delete(f"/api/v1/events/{event.id}", headers=bearer(admin_token))
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PATCH"}


# --- PATCH ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def created(client, clock, admin_token):
    return _post(client, admin_token, NEW_EVENT).get_json()


def test_patch_changes_only_the_fields_given(client, admin_token, created, openapi):
    response = _patch(client, admin_token, created["id"], {"summary": "New summary", "capacity": 30})
    body = openapi.check_response(response, "/events/{event_id}", "patch")
    assert response.status_code == 200
    assert (body["summary"], body["capacity"], body["title"]) == ("New summary", 30, NEW_EVENT["title"])
    assert body["sequence"] == created["sequence"]  # neither time nor place changed
    actions = db.session.scalars(select(AuditRecord.action).where(AuditRecord.event_id == created["id"])).all()
    assert actions == ["event.created", "event.updated"]


def test_patch_unknown_event_is_404(client, admin_token, openapi):
    response = _patch(client, admin_token, 424242, {"capacity": 3})
    assert response.status_code == 404
    openapi.check_response(response, "/events/{event_id}", "patch")


def test_patch_capacity_below_taken_places_is_409(client, clock, admin_token, openapi):
    event = make_event(capacity=10)
    add_places(event, 4)
    add_places(event, 2, status="held", hold_expires_at=clock.now + timedelta(minutes=10))
    response = _patch(client, admin_token, event.id, {"capacity": 5})
    assert response.status_code == 409
    body = openapi.check_response(response, "/events/{event_id}", "patch")
    assert body["error"] == "capacity_below_taken" and body["taken"] == 6
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 10


def test_patch_capacity_down_to_exactly_taken_is_allowed(client, clock, admin_token):
    event = make_event(capacity=10)
    add_places(event, 4)
    add_places(event, 2, status="held", hold_expires_at=clock.now - timedelta(minutes=1))  # expired: free
    body = _patch(client, admin_token, event.id, {"capacity": 4}).get_json()
    assert (body["capacity"], body["places_left"]) == (4, 0)


def test_patch_session_time_raises_sequences_and_keeps_uid(client, admin_token, created):
    event = db.session.get(Event, created["id"])
    first, second = event.sessions
    uid, first_id, second_id = first.uid, first.id, second.id
    body = _patch(
        client,
        admin_token,
        created["id"],
        {
            "sessions": [
                {"id": first_id, "title": "Day 1", "starts_at": "2027-03-27T10:00Z", "ends_at": "2027-03-27T17:00Z"},
                {"id": second_id, "title": "Day 2", "starts_at": "2027-03-28T09:30", "ends_at": "2027-03-28T16:30"},
            ]
        },
    ).get_json()
    assert body["sequence"] == created["sequence"] + 1
    sessions = {s["id"]: s for s in body["sessions"]}
    assert sessions[first_id]["uid"] == uid and sessions[first_id]["sequence"] == 1
    assert sessions[first_id]["starts_at"] == "2027-03-27T10:00:00+00:00"
    assert sessions[second_id]["sequence"] == 0  # unchanged
    assert body["starts_at"] == "2027-03-27T10:00:00+00:00"


def test_patch_venue_raises_every_session_sequence(client, admin_token, created):
    body = _patch(client, admin_token, created["id"], {"venue_name": "Town Hall"}).get_json()
    assert body["sequence"] == created["sequence"] + 1
    assert [s["sequence"] for s in body["sessions"]] == [1, 1]


def test_patch_sessions_drops_one_from_published_event_as_cancelled(client, admin_token, created):
    keep = created["sessions"][0]
    body = _patch(
        client,
        admin_token,
        created["id"],
        {
            "sessions": [
                {"id": keep["id"], "starts_at": keep["starts_at"], "ends_at": keep["ends_at"], "title": "Day 1"}
            ]
        },
    ).get_json()
    assert [(s["id"], s["is_cancelled"]) for s in body["sessions"]] == [
        (keep["id"], False),
        (created["sessions"][1]["id"], True),
    ]
    assert body["ends_at"] == keep["ends_at"]


def test_patch_adds_a_session_with_a_new_uid(client, admin_token, created):
    sessions = [{k: s[k] for k in ("id", "title", "starts_at", "ends_at")} for s in created["sessions"]]
    sessions.append({"title": "Day 3", "starts_at": "2027-03-29T09:30", "ends_at": "2027-03-29T12:30"})
    body = _patch(client, admin_token, created["id"], {"sessions": sessions}).get_json()
    assert len(body["sessions"]) == 3
    assert len({s["uid"] for s in body["sessions"]}) == 3
    assert [s["sequence"] for s in body["sessions"]] == [0, 0, 0]  # the others did not change
    assert body["sequence"] == created["sequence"] + 1
    assert body["ends_at"] == "2027-03-29T12:30:00+01:00"


def test_patch_session_id_of_another_event_is_422(client, admin_token, created):
    other = make_event()
    before = row_counts()
    response = _patch(
        client,
        admin_token,
        created["id"],
        {"sessions": [{"id": other.sessions[0].id, "starts_at": "2027-03-29T09:30", "ends_at": "2027-03-29T12:30"}]},
    )
    assert response.status_code == 422
    assert "sessions[0].id" in response.get_json()["errors"]
    assert row_counts() == before


def test_patch_removing_a_rate_with_bookings_is_409(client, clock, admin_token, openapi):
    event = make_event(ticket_types=[{"name": "A", "price_pence": 0}, {"name": "B", "price_pence": 0}])
    rate_a, rate_b = event.ticket_types
    add_places(event, 1, status="cancelled", ticket_type_id=rate_b.id)
    response = _patch(
        client, admin_token, event.id, {"ticket_types": [{"id": rate_a.id, "name": "A", "price_pence": 0}]}
    )
    assert response.status_code == 409
    assert openapi.check_response(response, "/events/{event_id}", "patch")["error"] == "ticket_type_in_use"
    assert db.session.scalar(select(TicketType).where(TicketType.id == rate_b.id)) is not None


def test_patch_removes_an_unused_rate_and_renames_another(client, admin_token, created):
    keep, drop = created["ticket_types"]
    body = _patch(
        client, admin_token, created["id"], {"ticket_types": [{"id": keep["id"], "name": "Public", "price_pence": 1}]}
    ).get_json()
    assert [(t["id"], t["name"], t["price_pence"]) for t in body["ticket_types"]] == [(keep["id"], "Public", 1)]
    assert db.session.get(TicketType, drop["id"]) is None


def test_patch_rate_cap_below_its_taken_places_is_409(client, clock, admin_token):
    event = make_event(ticket_types=[{"name": "A", "price_pence": 0, "cap": 5}])
    add_places(event, 3)
    rate = event.ticket_types[0]
    response = _patch(
        client, admin_token, event.id, {"ticket_types": [{"id": rate.id, "name": "A", "price_pence": 0, "cap": 2}]}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "cap_below_taken"


def test_patch_status_publishes_and_audits(client, clock, admin_token):
    draft = make_event(status="draft")
    body = _patch(client, admin_token, draft.id, {"status": "published"}).get_json()
    assert body["status"] == "published"
    actions = db.session.scalars(select(AuditRecord.action).where(AuditRecord.event_id == draft.id)).all()
    assert actions == ["event.published"]
    assert client.get(f"/api/v1/events/{draft.id}").status_code == 200


def test_patch_status_cancelled_cancels_sessions_and_is_final(client, admin_token, created):
    body = _patch(client, admin_token, created["id"], {"status": "cancelled"}).get_json()
    assert body["status"] == "cancelled"
    assert all(s["is_cancelled"] for s in body["sessions"])
    assert body["sequence"] > created["sequence"]
    response = _patch(client, admin_token, created["id"], {"status": "published"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "event_cancelled"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": -1}, "capacity"),
        ({"title": None}, "title"),
        ({"status": "archived"}, "status"),
        ({"sessions": []}, "sessions"),
        ({"ticket_types": [{"name": "x"}]}, "ticket_types[0].price_pence"),
        ({"booking_closes_at": "2020-01-01T00:00Z", "booking_opens_at": "2021-01-01T00:00Z"}, "booking_closes_at"),
        ({"id": 5}, "id"),
        ({"capacty": 5}, "capacty"),
    ],
)
def test_invalid_patch_is_422_and_writes_nothing(client, admin_token, created, changes, field, openapi):
    before = row_counts()
    response = _patch(client, admin_token, created["id"], changes)
    assert response.status_code == 422
    assert field in openapi.check_response(response, "/events/{event_id}", "patch")["errors"]
    assert row_counts() == before
    assert client.get(f"/api/v1/events/{created['id']}", headers=bearer(admin_token)).get_json() == created


def test_patch_naive_times_follow_a_new_timezone_given_with_them(client, admin_token, created):
    session = created["sessions"][0]
    body = _patch(
        client,
        admin_token,
        created["id"],
        {
            "timezone": "America/New_York",
            "sessions": [{"id": session["id"], "starts_at": "2027-03-27T09:30", "ends_at": "2027-03-27T12:00"}],
        },
    ).get_json()
    assert body["sessions"][0]["starts_at"] == "2027-03-27T09:30:00-04:00"


def test_empty_patch_changes_nothing(client, admin_token, created):
    response = _patch(client, admin_token, created["id"], {})
    assert response.status_code == 200
    assert response.get_json() == created


def test_sessions_are_kept_in_the_database_in_step(client, admin_token, created):
    _patch(client, admin_token, created["id"], {"venue_name": "Elsewhere"})
    sequences = db.session.scalars(
        select(EventSession.sequence).where(EventSession.event_id == created["id"]).order_by(EventSession.id)
    ).all()
    assert sequences == [1, 1]
