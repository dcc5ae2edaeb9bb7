"""The walk: every console URL rule answers anonymous visitors with sign-in, attendees with 403, admins with the page.

It iterates over the app's URL map, so a new admin route without protection fails here.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from flask import url_for

from bookings.booking.inputs import AttendeeInput
from bookings.catalogue.models import Event
from bookings.extensions import db
from bookings.payments import services as payment_services
from bookings.waitlist import services as waitlist_services
from tests.conftest import login_as
from tests.integration.admin.support import add_question, book, failed_email
from tests.support.factories import make_admin, make_event, make_user

KNOWN_MINIMUM_RULES = 30  # the console's and the waiting list's admin rules today


def _console_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") or rule.rule.startswith("/admin/")
    ]


def _objects(now) -> dict[str, object]:
    """Real ids for every URL parameter a console rule can carry."""
    event = make_event(capacity=2)
    booking = book(event, now, people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")])
    book(event, now)
    entry = waitlist_services.join_waitlist(event_id=event.id, user=make_user(), places=1, now=now)
    return {
        "event_id": event.id,
        "reference": booking.reference,
        "attendee_id": booking.attendees[0].id,
        "entry_id": entry.id,
        "message_id": failed_email(now=now).id,
        "question_id": add_question(db.session.get(Event, event.id)).id,
        "discount_id": payment_services.create_discount_code(
            code=f"WALK{event.id}", percent=10, event_id=event.id, actor=make_admin(), now=now
        ).id,
        "fmt": "csv",
    }


def _url(app, rule, objects) -> str:
    missing = set(rule.arguments) - set(objects)
    assert not missing, f"{rule.rule}: give the walk a value for {missing}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: objects[name] for name in rule.arguments})


def _requests(app, objects):
    for rule in _console_rules(app):
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield rule, method, _url(app, rule, objects)


def _sign_in_path(app) -> str:
    with app.test_request_context():
        return url_for("accounts.login")


def test_the_walk_covers_every_console_rule(app):
    rules = _console_rules(app)

    assert len(rules) >= KNOWN_MINIMUM_RULES
    assert any(r.endpoint == "admin.dashboard" for r in rules)
    assert any(r.endpoint == "admin.end_discount_code" for r in rules)
    assert any(r.endpoint.startswith("waitlist.admin") for r in rules)


def test_every_console_url_sends_anonymous_visitors_to_sign_in(app, client, clock):
    objects = _objects(clock.now)
    sign_in = _sign_in_path(app)
    wrong = []
    for rule, method, url in _requests(app, objects):
        response = client.open(url, method=method)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or urlparse(location).path != sign_in or "next=" not in location:
            wrong.append((method, rule.rule, response.status_code, location))

    assert wrong == []


def test_every_console_url_is_forbidden_to_a_signed_in_attendee(app, client, clock):
    objects = _objects(clock.now)
    login_as(client, make_user())
    wrong = []
    for rule, method, url in _requests(app, objects):
        status = client.open(url, method=method).status_code
        if status != 403:
            wrong.append((method, rule.rule, status))

    assert wrong == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_console_url_answers_an_admin(app, client, clock, method):
    sign_in = _sign_in_path(app)
    wrong = []
    for rule in _console_rules(app):
        if method not in rule.methods:
            continue
        objects = _objects(clock.now)  # fresh objects: an earlier POST may have changed them
        login_as(client, make_admin())
        response = client.open(_url(app, rule, objects), method=method)
        location = urlparse(response.headers.get("Location", "")).path
        if response.status_code in (401, 403, 404, 405) or response.status_code >= 500 or location == sign_in:
            wrong.append((method, rule.rule, response.status_code, location))

    assert wrong == []


def test_admin_required_alone_turns_away_anonymous_and_attendees(app):
    """The decorator on its own, without the blueprint's guard in front of it."""
    from flask_login import login_user
    from werkzeug.exceptions import Forbidden

    from bookings.admin.access import admin_required

    view = admin_required(lambda: "secret")
    attendee, admin = make_user(), make_admin()

    with app.test_request_context("/somewhere"):
        anonymous = view()
    with app.test_request_context("/somewhere"):
        login_user(attendee)
        with pytest.raises(Forbidden):
            view()
    with app.test_request_context("/somewhere"):
        login_user(admin)
        answer = view()

    assert anonymous.status_code == 302
    assert urlparse(anonymous.headers["Location"]).path == _sign_in_path(app)
    assert answer == "secret"
