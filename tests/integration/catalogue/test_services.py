"""The catalogue's event services against a real database: all or nothing, audited, under the capacity lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.catalogue import services
from bookings.catalogue.inputs import EventInput, SessionInput, TicketTypeInput, parse_event_input
from bookings.catalogue.models import Event, EventSession, TicketType
from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict, NotFound, ValidationError
from bookings.extensions import db
from tests.api.places import add_places
from tests.support.factories import at, make_admin, make_event


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _actions(event_id: int) -> list[str]:
    query = select(AuditRecord.action).where(AuditRecord.event_id == event_id).order_by(AuditRecord.id)
    return list(db.session.scalars(query))


def _input(**overrides) -> EventInput:
    values = {
        "title": "Data protection essentials",
        "capacity": 12,
        "sessions": (
            SessionInput(starts_at=at(2027, 5, 11, 13), ends_at=at(2027, 5, 11, 16)),
            SessionInput(starts_at=at(2027, 5, 4, 13), ends_at=at(2027, 5, 4, 16)),
        ),
        "ticket_types": (TicketTypeInput(name="Public sector", price_pence=5000),),
    }
    values.update(overrides)
    return EventInput(**values)


@pytest.fixture
def admin(app):
    return make_admin()


@pytest.fixture
def spy_hooks(monkeypatch):
    """Replace the hook registries for one test."""
    calls: list[tuple] = []
    # Patched where they are read: cancelling reads them in services.status, moving in services.editing.
    monkeypatch.setattr(
        services.status, "_cancellation_hooks", {"spy": lambda event, actor, now: calls.append(("cancel", event.id))}
    )
    monkeypatch.setattr(
        services.editing,
        "_change_hooks",
        {"spy": lambda event, changed, actor, now: calls.append(("move", event.id, changed))},
    )
    return calls


def test_create_event_writes_event_sessions_rates_and_audit(app, clock, admin):
    event = services.create_event(_input(), admin.id, clock.now)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.slug == "data-protection-essentials" and event.status == "draft"
    assert [s.starts_at for s in event.sessions] == [at(2027, 5, 4, 13), at(2027, 5, 11, 13)]
    assert (event.starts_at, event.ends_at) == (at(2027, 5, 4, 13), at(2027, 5, 11, 16))
    assert event.created_at == clock.now and event.sequence == 0
    assert [t.name for t in event.ticket_types] == ["Public sector"]
    assert _actions(event.id) == ["event.created"]


def test_create_event_with_a_taken_slug_writes_nothing(app, clock, admin):
    make_event(slug="dpe")
    before = (_count(Event), _count(EventSession), _count(AuditRecord))
    with pytest.raises(ValidationError) as raised:
        services.create_event(_input(slug="dpe"), admin.id, clock.now)
    assert raised.value.errors == {"slug": "Already in use."}
    assert (_count(Event), _count(EventSession), _count(AuditRecord)) == before


def test_parse_reads_naive_times_in_the_event_timezone_across_a_clock_change():
    data = parse_event_input(
        {
            "title": "Course",
            "capacity": 1,
            "timezone": "Europe/London",
            "sessions": [
                {"starts_at": "2027-03-27T09:30", "ends_at": "2027-03-27T10:30"},
                {"starts_at": "2027-03-29T09:30", "ends_at": "2027-03-29T10:30"},
            ],
            "ticket_types": [{"name": "Free", "price_pence": 0}],
        }
    )
    assert [s.starts_at for s in data.sessions] == [at(2027, 3, 27, 9, 30), at(2027, 3, 29, 8, 30)]


def test_update_event_takes_the_capacity_lock(app, clock, admin, monkeypatch):
    event = make_event(capacity=10)
    locked: list[int] = []
    real_lock = capacity.lock_event

    def spy(event_id):
        locked.append(event_id)
        return real_lock(event_id)

    monkeypatch.setattr(capacity, "lock_event", spy)
    services.update_event(event.id, {"capacity": 8}, admin.id, clock.now)
    assert locked == [event.id]


def test_update_event_refuses_capacity_below_live_places(app, clock, admin):
    event = make_event(capacity=10)
    add_places(event, 5)
    add_places(event, 3, status="held", hold_expires_at=clock.now + timedelta(minutes=5))
    with pytest.raises(Conflict) as raised:
        services.update_event(event.id, {"capacity": 7, "summary": "x"}, admin.id, clock.now)
    assert raised.value.code == "capacity_below_taken" and raised.value.extra["taken"] == 8
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.capacity, event.summary) == (10, "")
    assert _actions(event.id) == []


def test_raising_capacity_offers_freed_places_in_the_same_transaction(app, clock, admin, monkeypatch):
    event = make_event(capacity=2)
    offered: list[tuple[int, int]] = []

    def handler(event_id, now):
        offered.append((event_id, db.session.get(Event, event_id).capacity))

    monkeypatch.setattr(capacity, "_freed_places_handlers", {"spy": handler})
    services.update_event(event.id, {"capacity": 5}, admin.id, clock.now)
    assert offered == [(event.id, 5)]
    services.update_event(event.id, {"capacity": 4}, admin.id, clock.now)
    assert offered == [(event.id, 5)]  # lowering frees nothing


def test_update_event_title_raises_every_sequence(app, clock, admin):
    event = make_event(days=3)
    services.update_event(event.id, {"title": "Renamed"}, admin.id, clock.now)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.sequence == 1 and [s.sequence for s in event.sessions] == [1, 1, 1]
    assert _actions(event.id) == ["event.updated"]
    audit = db.session.scalars(select(AuditRecord).where(AuditRecord.event_id == event.id)).one()
    assert audit.details == {"changed": ["title"]} and audit.actor_id == admin.id


def test_update_event_without_calendar_change_keeps_sequences(app, clock, admin):
    event = make_event()
    services.update_event(event.id, {"description": "More words", "capacity": 20}, admin.id, clock.now)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.sequence == 0 and event.sessions[0].sequence == 0


def test_removing_a_session_of_a_draft_deletes_it(app, clock, admin):
    event = make_event(status="draft", days=2)
    keep = event.sessions[0]
    spec = {"id": keep.id, "starts_at": keep.starts_at, "ends_at": keep.ends_at}
    services.update_event(event.id, {"sessions": [spec]}, admin.id, clock.now)
    assert db.session.scalar(select(func.count()).where(EventSession.event_id == event.id)) == 1


def test_invalid_update_reports_every_field_and_writes_nothing(app, clock, admin):
    event = make_event(capacity=10)
    with pytest.raises(ValidationError) as raised:
        services.update_event(
            event.id, {"capacity": -1, "timezone": "Atlantis", "sessions": [{"starts_at": "soon"}]}, admin.id, clock.now
        )
    assert set(raised.value.errors) == {"capacity", "timezone", "sessions[0].starts_at", "sessions[0].ends_at"}
    db.session.expire_all()
    assert db.session.get(Event, event.id).capacity == 10
    assert _count(AuditRecord) == 0


def test_update_of_a_missing_event_is_not_found(app, clock, admin):
    with pytest.raises(NotFound):
        services.update_event(12345, {"capacity": 1}, admin.id, clock.now)


def test_moving_a_published_event_runs_the_change_hooks(app, clock, admin, spy_hooks):
    event = make_event()
    session = event.sessions[0]
    later = {"id": session.id, "starts_at": session.starts_at + timedelta(hours=1), "ends_at": session.ends_at}
    services.update_event(event.id, {"sessions": [later]}, admin.id, clock.now)
    assert spy_hooks == [("move", event.id, ["sessions"])]


def test_moving_a_draft_runs_no_change_hooks(app, clock, admin, spy_hooks):
    event = make_event(status="draft")
    services.update_event(event.id, {"venue_name": "Library"}, admin.id, clock.now)
    assert spy_hooks == []


def test_cancel_event_cancels_sessions_runs_hooks_and_audits(app, clock, admin, spy_hooks):
    event = make_event(days=2)
    services.cancel_event(event.id, admin.id, clock.now, reason="Trainer ill")
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.status == "cancelled" and all(s.is_cancelled for s in event.sessions)
    assert event.sequence == 1 and [s.sequence for s in event.sessions] == [1, 1]
    assert spy_hooks == [("cancel", event.id)]
    record = db.session.scalars(select(AuditRecord).where(AuditRecord.event_id == event.id)).one()
    assert (record.action, record.details["reason"]) == ("event.cancelled", "Trainer ill")


def test_cancelling_twice_changes_nothing_more(app, clock, admin, spy_hooks):
    event = make_event()
    services.cancel_event(event.id, admin.id, clock.now)
    services.cancel_event(event.id, admin.id, clock.now)
    assert _actions(event.id) == ["event.cancelled"] and spy_hooks == [("cancel", event.id)]


def test_failing_cancellation_hook_leaves_the_event_as_it_was(app, clock, admin, monkeypatch):
    event = make_event()

    def broken(event, actor_id, now):
        raise RuntimeError("mail store down")

    monkeypatch.setattr(services.status, "_cancellation_hooks", {"broken": broken})
    with pytest.raises(RuntimeError):
        services.cancel_event(event.id, admin.id, clock.now)
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "published"
    assert _actions(event.id) == []


def test_publish_and_unpublish_are_audited(app, clock, admin):
    event = make_event(status="draft")
    services.publish_event(event.id, admin.id, clock.now)
    services.unpublish_event(event.id, admin.id, clock.now)
    assert _actions(event.id) == ["event.published", "event.unpublished"]
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == "draft"


def test_a_cancelled_event_cannot_be_published(app, clock, admin):
    event = make_event(status="cancelled")
    with pytest.raises(Conflict) as raised:
        services.publish_event(event.id, admin.id, clock.now)
    assert raised.value.code == "event_cancelled"


def test_rate_with_a_cancelled_booking_cannot_be_removed(app, clock, admin):
    event = make_event(ticket_types=[{"name": "A", "price_pence": 0}, {"name": "B", "price_pence": 0}])
    rate_a, rate_b = event.ticket_types
    add_places(event, 1, status="cancelled", ticket_type_id=rate_b.id)
    with pytest.raises(Conflict) as raised:
        services.update_event(
            event.id, {"ticket_types": [{"id": rate_a.id, "name": "A", "price_pence": 0}]}, admin.id, clock.now
        )
    assert raised.value.code == "ticket_type_in_use" and raised.value.extra["ticket_type_ids"] == [rate_b.id]
    assert db.session.get(TicketType, rate_b.id) is not None


def test_slug_taken_by_a_concurrent_writer_is_a_validation_error(app, clock, admin, monkeypatch):
    make_event(slug="race")
    monkeypatch.setattr(services.editing, "_slug_taken", lambda slug, except_event_id=None: False)  # lost the race
    with pytest.raises(ValidationError) as raised:
        services.create_event(_input(slug="race"), admin.id, clock.now)
    assert raised.value.errors == {"slug": "Already in use."}
    assert _count(Event) == 1
