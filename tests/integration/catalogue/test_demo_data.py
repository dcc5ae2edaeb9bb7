"""`load_demo_data`: a realistic, idempotent demo catalogue with accounts and bookings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.accounts.models import User
from bookings.accounts.passwords import verify_password
from bookings.booking.models import Attendee, Booking
from bookings.catalogue.models import Event, EventSession, Question, TicketType
from bookings.demo import ADMIN_EMAIL, ADMIN_PASSWORD, ATTENDEE_EMAIL, ATTENDEE_PASSWORD, load_demo_data
from bookings.extensions import db

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Event, EventSession, TicketType, Question, User, Booking, Attendee)
    }


def events_by_slug() -> dict[str, Event]:
    return {event.slug: event for event in db.session.scalars(select(Event))}


def test_demo_data_loads_about_a_dozen_events(app):
    lines = load_demo_data(NOW)

    assert 10 <= counts()["Event"] <= 14
    assert any("Added" in line for line in lines)


def test_loading_demo_data_twice_adds_nothing(app):
    load_demo_data(NOW)
    first = counts()

    lines = load_demo_data(NOW)

    assert counts() == first
    assert lines == ["Demo data is already loaded; nothing added."]


def test_demo_data_keeps_events_that_already_exist(app):
    load_demo_data(NOW)
    event = events_by_slug()["dementia-care-conference"]
    event.title = "Renamed by an organiser"
    db.session.commit()

    load_demo_data(NOW)

    assert events_by_slug()["dementia-care-conference"].title == "Renamed by an organiser"


def test_reset_replaces_the_demo_catalogue_and_its_bookings(app):
    load_demo_data(NOW)
    first = counts()

    load_demo_data(NOW, reset=True)

    assert counts() == first


def test_demo_catalogue_has_every_kind_and_format(app):
    load_demo_data(NOW)
    events = list(events_by_slug().values())

    assert {e.kind for e in events} == {"conference", "course", "webinar", "workshop"}
    assert any(e.is_online for e in events)
    assert any(not e.is_online and e.venue_address for e in events)
    assert any(len(e.sessions) > 1 for e in events)
    assert any(e.status == "draft" for e in events)
    assert all(e.timezone == "Europe/London" for e in events)


def test_demo_events_are_upcoming_with_start_and_end_from_their_sessions(app):
    load_demo_data(NOW)

    for event in events_by_slug().values():
        assert event.starts_at > NOW
        assert event.starts_at == min(s.starts_at for s in event.sessions)
        assert event.ends_at == max(s.ends_at for s in event.sessions)
    uids = db.session.scalars(select(EventSession.uid)).all()
    assert len(set(uids)) == len(uids)


def test_dementia_conference_has_rates_with_caps_vat_and_an_early_bird_window(app):
    load_demo_data(NOW)
    event = events_by_slug()["dementia-care-conference"]
    rates = {rate.name: rate for rate in event.ticket_types}

    assert len(event.sessions) == 2
    assert event.prices_include_vat is False
    assert rates["Public sector"].price_pence == 9500
    assert rates["Private sector"].price_pence == 19500
    early = rates["Early bird"]
    assert early.sale_starts_at < NOW < early.sale_ends_at < event.starts_at
    assert any(rate.cap for rate in event.ticket_types)
    assert {q.kind for q in event.questions} >= {"choice", "yesno"}


@pytest.mark.parametrize(
    ("slug", "low", "high"), [("safeguarding-adults-level-3", 1, 2), ("mental-health-first-aid", 0, 0)]
)
def test_nearly_full_and_fully_booked_courses_have_confirmed_bookings(app, slug, low, high):
    load_demo_data(NOW)
    event = events_by_slug()[slug]

    left = capacity.availability(event, NOW).places_left

    assert low <= left <= high
    bookings = db.session.scalars(select(Booking).where(Booking.event_id == event.id)).all()
    assert bookings and all(b.status == "confirmed" for b in bookings)
    assert all(b.payment_status in ("not_required", "invoiced") for b in bookings)
    assert all(a.event_id == event.id and a.name for b in bookings for a in b.attendees)


def test_neurodiversity_course_has_ten_places_and_the_webinar_is_free_and_online(app):
    load_demo_data(NOW)
    events = events_by_slug()

    assert events["neurodiversity-in-the-workplace"].capacity == 10
    webinar = events["procurement-act-webinar"]
    assert webinar.kind == "webinar" and webinar.is_online and webinar.online_url.startswith("https://")
    assert webinar.is_free


def test_demo_accounts_sign_in_with_the_printed_passwords(app):
    load_demo_data(NOW)
    admin = db.session.scalars(select(User).where(User.email == ADMIN_EMAIL)).one()
    attendee = db.session.scalars(select(User).where(User.email == ATTENDEE_EMAIL)).one()

    assert admin.is_admin and verify_password(admin.password_hash, ADMIN_PASSWORD)
    assert not attendee.is_admin and verify_password(attendee.password_hash, ATTENDEE_PASSWORD)


def test_demo_listing_renders_the_published_events(app, clock):
    clock.set(NOW)
    load_demo_data(NOW)

    html = app.test_client().get("/?page=2").get_data(as_text=True) + app.test_client().get("/").get_data(as_text=True)

    assert "National Dementia Care Conference" in html
    assert "Fully booked" in html
    assert "Trauma-Informed Practice" not in html


def test_demo_data_command_loads_and_reports(app, clock):
    result = app.test_cli_runner().invoke(args=["bookings", "demo-data"])

    assert result.exit_code == 0, result.output
    assert "Added" in result.output
    assert counts()["Event"] >= 10
