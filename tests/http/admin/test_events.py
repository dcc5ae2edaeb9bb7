"""Event pages: create, edit, publish, duplicate, move, cancel, questions; bad input and CSRF write nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bookings.catalogue.models import Event, EventStatus, Question
from bookings.core.clock import utcnow
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.conftest import login_as
from tests.integration.admin.support import GOOD_EVENT, add_question, audit_rows, book, london_event, london_times
from tests.support.factories import make_admin, make_event
from tests.support.markup import missing_error_targets


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Event))


def test_creating_an_event_makes_a_draft_with_its_session_rate_and_policies(client):
    login_as(client, make_admin())

    response = client.post("/admin/events/new", data=GOOD_EVENT)

    assert response.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.status == EventStatus.DRAFT.value
    assert event.ticket_types[0].price_pence == 9550
    assert event.offer_expiry_hours == 12 and event.hold_minutes is None and event.allow_invoice
    assert event.sessions[0].starts_at.hour == 9  # 09:30 in London in March is 09:30 UTC


def test_bad_event_input_shows_every_error_linked_to_its_field_and_writes_nothing(client):
    login_as(client, make_admin())
    data = {
        **GOOD_EVENT,
        "title": "",
        "capacity": "lots",
        "rates-0-price": "£10",
        "sessions-0-ends_at": "2027-03-27T08:00",
    }

    response = client.post("/admin/events/new", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page
    for field in ("title", "capacity", "rates-0-price", "sessions-0-ends_at"):
        assert f'href="#{field}"' in page
    assert _events() == 0


def test_a_vat_rate_over_100_percent_is_refused_in_percent_not_basis_points(client):
    login_as(client, make_admin())

    response = client.post("/admin/events/new", data={**GOOD_EVENT, "rates-0-vat": "200"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#rates-0-vat"' in page and "100% or less" in page and "10000" not in page
    assert _events() == 0


def test_add_rows_shows_more_session_rows_without_saving(client):
    login_as(client, make_admin())

    response = client.post("/admin/events/new", data={**GOOD_EVENT, "add_rows": "1"})

    assert 'name="sessions-3-starts_at"' in response.get_data(as_text=True)
    assert _events() == 0


def test_event_form_without_a_csrf_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    login_as(client, make_admin())

    response = client.post("/admin/events/new", data=GOOD_EVENT)

    assert response.status_code == 400
    assert _events() == 0


def test_editing_changes_capacity_and_keeps_the_session(client):
    event = make_event(capacity=10)
    session = event.sessions[0]
    login_as(client, make_admin())
    form = client.get(f"/admin/events/{event.id}/edit").get_data(as_text=True)
    assert f'value="{session.id}"' in form

    data = {
        **GOOD_EVENT,
        "slug": event.slug,
        "title": event.title,
        "venue_name": "",
        "capacity": "12",
        "session_rows": "1",
        "sessions-0-id": str(session.id),
        "sessions-0-starts_at": session.starts_at.astimezone(event.zone).strftime("%Y-%m-%dT%H:%M"),
        "sessions-0-ends_at": session.ends_at.astimezone(event.zone).strftime("%Y-%m-%dT%H:%M"),
        "rates-0-id": str(event.ticket_types[0].id),
        "rates-0-name": "Standard",
        "rates-0-price": "0",
    }
    response = client.post(f"/admin/events/{event.id}/edit", data=data)

    assert response.status_code == 302
    db.session.rollback()
    event = db.session.get(Event, event.id)
    assert event.capacity == 12
    assert [s.id for s in event.sessions] == [session.id] and event.sessions[0].sequence == 0


def test_lowering_capacity_below_places_taken_is_refused_on_the_field(client, clock):
    event = make_event(capacity=2)
    book(event, clock.now)
    book(event, clock.now)
    login_as(client, make_admin())
    values = client.get(f"/admin/events/{event.id}/edit")  # noqa: F841 the form renders for a full event
    session, rate = event.sessions[0], event.ticket_types[0]
    data = {
        **GOOD_EVENT,
        "slug": event.slug,
        "capacity": "1",
        "session_rows": "1",
        "sessions-0-id": str(session.id),
        "sessions-0-starts_at": session.starts_at.astimezone(event.zone).strftime("%Y-%m-%dT%H:%M"),
        "sessions-0-ends_at": session.ends_at.astimezone(event.zone).strftime("%Y-%m-%dT%H:%M"),
        "rates-0-id": str(rate.id),
        "rates-0-name": rate.name,
        "rates-0-price": "0",
    }

    response = client.post(f"/admin/events/{event.id}/edit", data=data)

    assert response.status_code == 422
    assert 'href="#capacity"' in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Event, event.id).capacity == 2


def test_publish_then_unpublish(client):
    event = make_event(status=EventStatus.DRAFT.value)
    login_as(client, make_admin())

    client.post(f"/admin/events/{event.id}/publish")
    db.session.rollback()
    assert db.session.get(Event, event.id).status == EventStatus.PUBLISHED.value
    client.post(f"/admin/events/{event.id}/unpublish")
    db.session.rollback()
    assert db.session.get(Event, event.id).status == EventStatus.DRAFT.value


def test_duplicate_opens_the_copy_for_editing(client):
    event = make_event()
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/duplicate")

    assert _events() == 2
    copy = db.session.scalar(select(Event).where(Event.id != event.id))
    assert response.headers["Location"].endswith(f"/admin/events/{copy.id}/edit")


def test_move_takes_a_new_start_in_the_events_timezone(client):
    event = make_event()
    login_as(client, make_admin())
    new_start = (event.starts_at + timedelta(days=14)).astimezone(event.zone)

    response = client.post(f"/admin/events/{event.id}/move", data={"new_start": new_start.strftime("%Y-%m-%dT%H:%M")})

    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Event, event.id).starts_at == new_start


def test_move_with_a_date_that_is_not_one_is_refused(client):
    event = make_event()
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/move", data={"new_start": "next tuesday"})

    assert response.status_code == 422
    assert 'href="#new_start"' in response.get_data(as_text=True)
    assert audit_rows("event.moved") == []


def test_move_across_the_clock_change_keeps_local_times_and_emails_them(client):
    event = london_event(("2027-03-26T09:30", "2027-03-26T16:30"), ("2027-03-29T09:30", "2027-03-29T16:30"))
    book(event, utcnow())
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/move", data={"new_start": "2027-04-02T09:30"})

    assert response.status_code == 302
    assert london_times(event.id) == [
        ("2027-04-02T09:30:00+01:00", "2027-04-02T16:30:00+01:00"),
        ("2027-04-05T09:30:00+01:00", "2027-04-05T16:30:00+01:00"),
    ]
    [email] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "event_changed"))
    assert "Monday 5 April 2027, 9:30am to 4:30pm" in email.text_body


def test_move_to_a_start_the_clocks_skip_is_refused_with_an_error_summary(client):
    event = london_event(("2027-03-20T01:30", "2027-03-20T03:00"))
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/move", data={"new_start": "2027-03-28T01:30"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#new_start"' in page and "a time that does not exist in Europe/London" in page
    assert london_times(event.id) == [("2027-03-20T01:30:00+00:00", "2027-03-20T03:00:00+00:00")]
    assert audit_rows("event.moved") == []


def test_cancel_needs_confirmation_and_then_cancels_with_the_reason(client):
    event = make_event()
    login_as(client, make_admin())

    refused = client.post(f"/admin/events/{event.id}/cancel", data={"reason": "Venue flooded"})
    assert refused.status_code == 422 and 'href="#confirm"' in refused.get_data(as_text=True)
    db.session.rollback()
    assert not db.session.get(Event, event.id).is_cancelled

    client.post(f"/admin/events/{event.id}/cancel", data={"reason": "Venue flooded", "confirm": "yes"})

    db.session.rollback()
    assert db.session.get(Event, event.id).is_cancelled
    assert audit_rows("event.cancelled")[0].details["reason"] == "Venue flooded"


def test_cancel_is_confirmed_with_one_checkbox_not_a_lone_radio(client):
    event = make_event(title="Records management")
    login_as(client, make_admin())

    page = client.get(f"/admin/events/{event.id}/cancel").get_data(as_text=True)
    refused = client.post(f"/admin/events/{event.id}/cancel", data={}).get_data(as_text=True)

    box = '<input class="govuk-checkboxes__input" id="confirm" name="confirm" type="checkbox" value="yes"'
    assert box in page and 'type="radio"' not in page
    assert "I want to cancel Records management and understand this cannot be undone" in page
    # The summary links to the box, which is described by its error message.
    assert missing_error_targets(refused) == []
    assert f'{box} aria-describedby="confirm-error">' in refused
    assert re.search(
        r'<p id="confirm-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span> '
        r"Confirm that you want to cancel the event",
        refused,
    )


def test_questions_can_be_added_and_an_unanswered_one_removed(client):
    event = make_event()
    login_as(client, make_admin())

    client.post(
        f"/admin/events/{event.id}/questions",
        data={"label": "Which workshop?", "kind": "choice", "choices": "Morning\nAfternoon", "is_required": "y"},
    )
    question = db.session.scalar(select(Question))
    assert question.choices == ["Morning", "Afternoon"] and question.is_required
    client.post(f"/admin/events/{event.id}/questions/{question.id}/remove")

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_question_without_a_label_is_refused_with_an_error_summary(client):
    event = make_event()
    login_as(client, make_admin())

    response = client.post(f"/admin/events/{event.id}/questions", data={"label": "", "kind": "text"})

    assert response.status_code == 422
    assert 'href="#label"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_choice_question_with_an_option_twice_is_refused(client):
    event = make_event()
    login_as(client, make_admin())

    data = {"label": "Which day?", "kind": "choice", "choices": "Mon\nTue\nmon"}
    response = client.post(f"/admin/events/{event.id}/questions", data=data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#choices"' in page and "Give each option once" in page
    assert db.session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_question_of_another_event_is_not_found(client):
    event, other = make_event(), make_event()
    question = add_question(other)
    login_as(client, make_admin())

    assert client.post(f"/admin/events/{event.id}/questions/{question.id}/remove").status_code == 404


def test_events_list_paginates(client):
    for _ in range(27):
        make_event()
    login_as(client, make_admin())

    first = client.get("/admin/events").get_data(as_text=True)
    second = client.get("/admin/events?page=2").get_data(as_text=True)

    assert "27 events" in first and "page=2" in first
    assert second.count('class="govuk-table__header"><a class="govuk-link" href="/admin/events/') == 2


def test_moving_a_published_event_runs_the_change_hooks_that_tell_everyone(client, monkeypatch):
    from bookings.catalogue import services as catalogue_services

    told = []
    monkeypatch.setitem(catalogue_services._change_hooks, "spy", lambda event, changed, *_: told.append(changed))
    event = make_event()
    login_as(client, make_admin())
    new_start = (event.starts_at + timedelta(days=1)).astimezone(event.zone).strftime("%Y-%m-%dT%H:%M")

    client.post(f"/admin/events/{event.id}/move", data={"new_start": new_start})

    assert told == [["sessions"]]


def test_cancelling_runs_the_cancellation_hooks_that_tell_and_refund(client, monkeypatch):
    from bookings.catalogue import services as catalogue_services

    cancelled = []
    monkeypatch.setitem(catalogue_services._cancellation_hooks, "spy", lambda event, *_: cancelled.append(event.id))
    event = make_event()
    login_as(client, make_admin())

    client.post(f"/admin/events/{event.id}/cancel", data={"confirm": "yes"})

    assert cancelled == [event.id]
