"""GET /events and /events/<id>: the public catalogue, what admins see besides, and live places."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event

from bookings.extensions import db
from tests.api.conftest import bearer
from tests.api.places import add_places
from tests.support.factories import at, make_event


def _titles(response) -> list[str]:
    return [e["title"] for e in response.get_json()["events"]]


def test_public_list_shows_published_upcoming_events_soonest_first(client, clock, openapi):
    later = make_event(title="Later", starts_at=clock.now + timedelta(days=40))
    make_event(title="Sooner", starts_at=clock.now + timedelta(days=5))
    make_event(title="Draft", status="draft")
    make_event(title="Over", starts_at=clock.now - timedelta(days=3))
    response = client.get("/api/v1/events")
    assert response.status_code == 200
    body = openapi.check_response(response, "/events", "get")
    assert _titles(response) == ["Sooner", "Later"]
    assert body["total"] == 2 and body["page"] == 1 and body["next"] is None
    assert body["events"][1]["id"] == later.id
    assert "online_url" not in body["events"][0]


def test_list_with_a_user_token_is_the_same_catalogue(client, clock, user_token, openapi):
    make_event(title="Published")
    make_event(title="Draft", status="draft")
    response = client.get("/api/v1/events", headers=bearer(user_token))
    openapi.check_response(response, "/events", "get")
    assert _titles(response) == ["Published"]


def test_admin_lists_drafts_with_status_draft(client, clock, admin_token, openapi):
    make_event(title="Published")
    make_event(title="Draft", status="draft")
    response = client.get("/api/v1/events?status=draft", headers=bearer(admin_token))
    body = openapi.check_response(response, "/events", "get")
    assert _titles(response) == ["Draft"]
    assert body["events"][0]["online_url"] == ""


def test_admin_lists_every_status_with_status_all(client, clock, admin_token):
    make_event(title="A", starts_at=clock.now + timedelta(days=1))
    make_event(title="B", status="draft", starts_at=clock.now + timedelta(days=2))
    make_event(title="C", status="cancelled", starts_at=clock.now + timedelta(days=3))
    response = client.get("/api/v1/events?status=all", headers=bearer(admin_token))
    assert _titles(response) == ["A", "B", "C"]


@pytest.mark.parametrize("headers", [{}, "user"])
def test_only_admins_may_list_drafts(client, clock, user_token, headers, openapi):
    response = client.get("/api/v1/events?status=draft", headers=bearer(user_token) if headers else {})
    assert response.status_code == 403
    assert openapi.check_response(response, "/events", "get")["error"] == "forbidden"


def test_list_filters_by_kind(client, clock):
    make_event(title="Course", kind="course")
    make_event(title="Webinar", kind="webinar")
    assert _titles(client.get("/api/v1/events?kind=webinar")) == ["Webinar"]


def test_past_events_are_listed_with_when_past(client, clock):
    make_event(title="Old", starts_at=clock.now - timedelta(days=10))
    make_event(title="Older", starts_at=clock.now - timedelta(days=20))
    make_event(title="Coming")
    assert _titles(client.get("/api/v1/events?when=past")) == ["Old", "Older"]


def test_list_pages_with_next_and_previous_links(client, clock, openapi):
    for day in range(5):
        make_event(title=f"Day {day}", starts_at=clock.now + timedelta(days=day + 1))
    first = openapi.check_response(client.get("/api/v1/events?per_page=2&kind=course"), "/events", "get")
    assert [e["title"] for e in first["events"]] == ["Day 0", "Day 1"]
    assert first["total"] == 5 and first["previous"] is None
    assert "page=2" in first["next"] and "kind=course" in first["next"] and "per_page=2" in first["next"]
    second = client.get(first["next"]).get_json()
    assert [e["title"] for e in second["events"]] == ["Day 2", "Day 3"]
    last = client.get(second["next"]).get_json()
    assert [e["title"] for e in last["events"]] == ["Day 4"]
    assert last["next"] is None and "page=2" in last["previous"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("page=99999999999999999999", "page"),
        ("page=\u0663", "page"),
        ("kind=party", "kind"),
        ("status=secret", "status"),
        ("when=soon", "when"),
        ("knd=course", "knd"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(client, admin_token, query, field, openapi):
    response = client.get(f"/api/v1/events?{query}", headers=bearer(admin_token))
    assert response.status_code == 422
    body = openapi.check_response(response, "/events", "get")
    assert body["error"] == "invalid" and field in body["errors"]


def test_event_shows_sessions_in_its_timezone_with_offset(client, clock, openapi):
    summer = make_event(starts_at=at(2027, 6, 1, 8, 30), days=2, timezone="Europe/London")
    response = client.get(f"/api/v1/events/{summer.id}")
    body = openapi.check_response(response, "/events/{event_id}", "get")
    assert [s["starts_at"] for s in body["sessions"]] == ["2027-06-01T09:30:00+01:00", "2027-06-02T09:30:00+01:00"]
    assert body["sessions"][0]["ends_at"] == "2027-06-01T16:30:00+01:00"
    assert body["starts_at"] == "2027-06-01T09:30:00+01:00"
    assert body["timezone"] == "Europe/London"
    assert body["url"] == f"http://localhost/events/{summer.slug}"


def test_event_shows_its_rates_with_places_left(client, clock, openapi):
    event = make_event(
        capacity=10,
        ticket_types=[
            {"name": "Public sector", "price_pence": 15000, "vat_rate_bp": 2000},
            {"name": "Early bird", "price_pence": 9900, "cap": 3},
        ],
    )
    add_places(event, 2, ticket_type_id=event.ticket_types[1].id)
    body = openapi.check_response(client.get(f"/api/v1/events/{event.id}"), "/events/{event_id}", "get")
    rates = {t["name"]: t for t in body["ticket_types"]}
    assert rates["Public sector"]["price_pence"] == 15000 and rates["Public sector"]["currency"] == "GBP"
    assert rates["Public sector"]["places_left"] == 8
    assert rates["Early bird"]["places_left"] == 1
    assert body["places_left"] == 8 and body["capacity"] == 10


def test_places_left_counts_a_live_hold_at_once(client, clock):
    event = make_event(capacity=10)
    add_places(event, 3, status="held", hold_expires_at=clock.now + timedelta(minutes=20))
    add_places(event, 2)
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert body["places_left"] == 5


def test_places_left_ignores_an_expired_hold_before_any_sweep(client, clock):
    event = make_event(capacity=10)
    add_places(event, 3, status="held", hold_expires_at=clock.now + timedelta(minutes=20))
    clock.advance(minutes=21)
    listed = client.get("/api/v1/events").get_json()["events"][0]
    assert listed["places_left"] == 10
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 10


@pytest.mark.parametrize("headers", [{}, "user"])
def test_draft_event_is_404_for_anyone_but_admins(client, user_token, headers, openapi):
    draft = make_event(status="draft")
    response = client.get(f"/api/v1/events/{draft.id}", headers=bearer(user_token) if headers else {})
    assert response.status_code == 404
    assert openapi.check_response(response, "/events/{event_id}", "get")["error"] == "not_found"


def test_admin_sees_a_draft_event(client, admin_token, openapi):
    draft = make_event(status="draft")
    response = client.get(f"/api/v1/events/{draft.id}", headers=bearer(admin_token))
    assert openapi.check_response(response, "/events/{event_id}", "get")["status"] == "draft"


def test_cancelled_event_stays_visible_by_id(client):
    cancelled = make_event(status="cancelled")
    assert client.get(f"/api/v1/events/{cancelled.id}").get_json()["status"] == "cancelled"


def test_missing_event_is_404_json(client):
    response = client.get("/api/v1/events/999999")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def _queries_for_list(client, headers) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client.get("/api/v1/events?per_page=100", headers=headers)  # warm up (a token notes its first use)
    db.session.commit()  # the test's session outlives requests: start each measured one outside a transaction
    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/api/v1/events?per_page=100", headers=headers)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("with_token", [False, True])
def test_list_takes_the_same_number_of_queries_for_3_or_30_events(client, clock, admin_token, with_token):
    headers = bearer(admin_token) if with_token else {}
    for _ in range(3):
        event = make_event(days=2, ticket_types=[{"name": "A", "price_pence": 0}, {"name": "B", "price_pence": 5}])
        add_places(event, 1)
    few = _queries_for_list(client, headers)
    for _ in range(27):
        event = make_event(days=2, ticket_types=[{"name": "A", "price_pence": 0}, {"name": "B", "price_pence": 5}])
        add_places(event, 1)
    assert len(client.get("/api/v1/events?per_page=100").get_json()["events"]) == 30
    assert _queries_for_list(client, headers) == few
