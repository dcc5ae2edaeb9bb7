"""Control characters in what a browser sends are refused at the edge: a GOV.UK error summary, nothing written.

PostgreSQL refuses NUL in text, even as a query parameter, so these pages answered 500 there (run with
--db=postgresql to see it). The other C0 control characters (except tab, LF and CR) are refused alike.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bookings.accounts.models import User
from bookings.booking.models import Attendee, Booking
from bookings.catalogue.models import Event
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.conftest import login_as
from tests.integration.admin.support import GOOD_EVENT
from tests.support.factories import make_admin, make_event, make_user

CONTROL_CHARACTERS = ["\x00", "\x01", "\x0b", "\x1b", "\x1f"]
IDS = [f"U+{ord(c):04X}" for c in CONTROL_CHARACTERS]
REFUSAL = "contains a control character"


def rows() -> dict[str, int]:
    db.session.rollback()
    models = (User, Event, Booking, Attendee, AuditRecord, OutboxMessage)
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in models}


def summary(response) -> list[str]:
    """The GOV.UK error summary's messages."""
    block = re.search(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', response.text, re.S)
    assert block, response.text[:500]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


def assert_refused(response) -> None:
    assert response.status_code == 400
    [message] = summary(response)
    assert REFUSAL in message
    assert "<title>Error: " in response.text


def _held_booking(client, places: int = 1) -> str:
    event = make_event(capacity=5)
    login_as(client, make_user())
    response = client.post(f"/events/{event.slug}/book", data={"places": str(places)})
    return re.search(r"/bookings/(BK-[A-Z0-9]+)/", response.headers["Location"]).group(1)


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=IDS)
def test_attendee_details_with_a_control_character_are_refused_and_save_nothing(client, clock, character):
    reference = _held_booking(client)
    before = rows()

    response = client.post(
        f"/bookings/{reference}/attendees",
        data={"attendees-0-name": f"Ann{character} Example", "attendees-0-email": "ann@council.example"},
        headers={"Referer": f"http://localhost/bookings/{reference}/attendees"},
    )

    assert_refused(response)
    assert f'href="http://localhost/bookings/{reference}/attendees#attendees-0-name"' in response.text
    assert rows() == before
    assert db.session.scalar(select(Attendee.name)) == ""


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=IDS)
def test_registering_with_a_control_character_is_refused_and_writes_nothing(client, clock, character):
    before = rows()

    response = client.post(
        "/register",
        data={
            "name": f"Ann{character}Example",
            "email": "ann@council.example",
            "organisation": "Exampleton Council",
            "sector": "public",
            "password": "plum orchard bicycle",
        },
    )

    assert_refused(response)
    assert rows() == before


def test_signing_in_with_a_nul_in_the_email_is_refused(client, clock):
    make_user(email="ann@council.example")
    response = client.post("/sign-in", data={"email": "ann@council.example\x00", "password": "x"})
    assert_refused(response)


@pytest.mark.parametrize("character", CONTROL_CHARACTERS, ids=IDS)
def test_new_event_with_a_control_character_is_refused_and_writes_nothing(client, clock, character):
    login_as(client, make_admin())
    before = rows()

    response = client.post("/admin/events/new", data={**GOOD_EVENT, "title": f"Safe{character}guarding"})

    assert_refused(response)
    assert rows() == before


def test_a_field_name_with_a_control_character_is_refused(client, clock):
    reference = _held_booking(client)
    response = client.post(
        f"/bookings/{reference}/attendees",
        data={"attendees-0-name": "Ann", "attendees-0-email": "ann@council.example", "x\x00": "1"},
    )
    assert_refused(response)


@pytest.mark.parametrize("path", ["/admin/events?q=safe%00guarding", "/admin/bookings?q=BK%00", "/?q=safe%00guarding"])
def test_a_search_with_a_nul_character_is_refused(client, clock, path):
    login_as(client, make_admin())
    assert_refused(client.get(path))


@pytest.mark.parametrize("path", ["/bookings/BK-%00X", "/admin/bookings/BK-%00X", "/bookings/BK-%00X/attendees"])
def test_a_reference_with_a_nul_character_is_404(client, clock, path):
    login_as(client, make_admin())
    assert client.get(path).status_code == 404


def test_tabs_and_line_breaks_are_text(client, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    login_as(client, make_user())
    response = client.post(f"/events/{event.slug}/book", data={"places": "1"})
    reference = re.search(r"/bookings/(BK-[A-Z0-9]+)/", response.headers["Location"]).group(1)
    client.post(
        f"/bookings/{reference}/attendees",
        data={"attendees-0-name": "Ann Example", "attendees-0-email": "ann@council.example"},
    )

    response = client.post(
        f"/bookings/{reference}/review",
        data={
            "payment": "invoice",
            "billing_contact": "Finance\tteam",
            "billing_address": "Town Hall\r\nExampleton",
        },
    )

    assert response.status_code == 302
    assert db.session.scalar(select(Booking.billing_address)) == "Town Hall\r\nExampleton"
