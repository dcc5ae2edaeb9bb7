"""Discount codes in the console: create through the form, list with uses, end early; bad input and CSRF write
nothing; only admins get in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bookings.core.errors import ValidationError
from bookings.extensions import db
from bookings.payments import services
from bookings.payments.models import DiscountCode
from tests.conftest import login_as
from tests.integration.admin.support import audit_rows, count
from tests.integration.payments.support import held_booking, paid_event, reload
from tests.support.factories import make_admin, make_user

GOOD_CODE = {"code": "nhs 25", "percent": "25", "max_uses": "5"}


def _code(code: str) -> DiscountCode | None:
    db.session.rollback()
    return db.session.scalar(select(DiscountCode).where(DiscountCode.code == code))


def _list_row(client, code: str) -> str:
    """The table row of one code on the list page."""
    page = client.get("/admin/discount-codes").get_data(as_text=True)
    start = page.index(f">{code}</th>")
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def test_creating_a_code_lists_it_with_its_event_uses_and_status_and_audits_it(client):
    event = paid_event(title="Safeguarding adults: level 2")
    login_as(client, make_admin())

    response = client.post("/admin/discount-codes/new", data={**GOOD_CODE, "event_id": str(event.id)})

    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/discount-codes")
    discount = _code("NHS25")
    assert (discount.percent, discount.amount_pence, discount.event_id, discount.max_uses) == (25, None, event.id, 5)
    row = _list_row(client, "NHS25")
    assert "25% off" in row and "Safeguarding adults: level 2" in row and "No time limit" in row
    assert "0 of 5" in row and "Active" in row and "End<span" in row
    [audit] = audit_rows("discount_code.created")
    assert (audit.subject_id, audit.event_id, audit.details["percent"]) == ("NHS25", event.id, 25)


def test_an_amount_in_pounds_is_kept_in_pence_for_any_event_with_no_limit(client):
    login_as(client, make_admin())

    response = client.post("/admin/discount-codes/new", data={"code": "Save-10", "amount": "£12.50"})

    assert response.status_code == 302
    discount = _code("SAVE-10")
    assert (discount.amount_pence, discount.percent, discount.event_id, discount.max_uses) == (1250, None, None, None)
    row = _list_row(client, "SAVE-10")
    assert "£12.50 off" in row and "Any event" in row and "0 (no limit)" in row


def test_the_window_is_read_as_uk_time(client):
    login_as(client, make_admin())

    client.post(
        "/admin/discount-codes/new",
        data={**GOOD_CODE, "valid_from": "2027-07-01T09:00", "valid_until": "2027-12-01T09:00"},
    )

    discount = _code("NHS25")
    assert discount.valid_from == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # British Summer Time
    assert discount.valid_until == datetime(2027, 12, 1, 9, 0, tzinfo=UTC)  # Greenwich Mean Time
    row = _list_row(client, "NHS25")
    assert "From 9am on Thursday 1 July 2027 until 9am on Wednesday 1 December 2027" in row
    assert "Not started" in row


def test_a_code_used_on_the_booking_review_page_shows_its_use(client, clock):
    booking = held_booking(paid_event(price_pence=10000), clock.now)
    login_as(client, make_admin())
    client.post("/admin/discount-codes/new", data=GOOD_CODE)

    login_as(client, booking.booker)
    assert client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "nhs25"}).status_code == 302
    assert services.order_for(reload(booking)).total_pence == 7500

    login_as(client, make_admin())
    assert "1 of 5" in _list_row(client, "NHS25")


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        (
            {"code": "", "event_id": "999999", "valid_from": "soon", "max_uses": "lots"},
            ["code", "percent", "event_id", "valid_from", "max_uses"],
        ),
        ({"code": "SAVE 10%", "percent": "150", "max_uses": "0"}, ["code", "percent", "max_uses"]),
        ({"code": "X", "percent": "10", "amount": "5"}, ["percent"]),  # one of the two, not both
        ({"code": "X", "percent": "ten"}, ["percent"]),
        ({"code": "X", "amount": "£ten"}, ["amount"]),
        ({"code": "X", "amount": "0"}, ["amount"]),
        ({"code": "X", "amount": "12.345"}, ["amount"]),
        (
            {**GOOD_CODE, "valid_from": "2027-03-27T09:30", "valid_until": "2027-03-27T09:00"},
            ["valid_until"],
        ),
        ({**GOOD_CODE, "code": "x" * 41}, ["code"]),
    ],
)
def test_bad_input_shows_every_error_linked_to_its_field_and_writes_nothing(client, data, fields):
    login_as(client, make_admin())

    response = client.post("/admin/discount-codes/new", data=data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "govuk-error-summary" in page and "<title>Error:" in page
    summary = page[page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))]
    linked = [
        f
        for f in ("code", "percent", "amount", "event_id", "valid_from", "valid_until", "max_uses")
        if f'href="#{f}"' in summary
    ]
    assert linked == fields
    if data["code"]:
        assert f'value="{data["code"]}"' in page  # what was typed is shown again
    assert count(DiscountCode) == 0
    assert audit_rows("discount_code.created") == []


def test_a_code_that_exists_already_is_refused_on_the_form(client):
    login_as(client, make_admin())
    client.post("/admin/discount-codes/new", data=GOOD_CODE)

    response = client.post("/admin/discount-codes/new", data={**GOOD_CODE, "code": "NHS25", "percent": "10"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#code"' in page and "That code already exists" in page
    assert _code("NHS25").percent == 25


def test_ending_a_code_stops_new_uses_and_bookings_that_have_it_keep_their_discount(client, clock):
    event = paid_event(price_pence=10000)
    keeper, late = held_booking(event, clock.now), held_booking(event, clock.now)
    services.create_discount_code(code="HALF", percent=50, actor=make_admin(), now=clock.now)
    services.apply_discount_code(reference=keeper.reference, code="HALF", actor=keeper.booker, now=clock.now)
    discount_id = _code("HALF").id
    login_as(client, make_admin())

    confirm = client.get(f"/admin/discount-codes/{discount_id}/end").get_data(as_text=True)
    assert "End the code HALF" in confirm and "keep their discount" in confirm
    clock.advance(minutes=1)
    response = client.post(f"/admin/discount-codes/{discount_id}/end", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "The discount code HALF has ended" in page
    row = _list_row(client, "HALF")
    assert "Ended" in row and "End<span" not in row and "1 (no limit)" in row
    assert _code("HALF").valid_until == clock.now
    with pytest.raises(ValidationError, match="not valid"):
        services.apply_discount_code(reference=late.reference, code="HALF", actor=late.booker, now=clock.now)
    assert services.order_for(reload(keeper)).total_pence == 5000
    [audit] = audit_rows("discount_code.ended")
    assert (audit.subject_id, audit.details["uses"]) == ("HALF", 1)


def test_ending_a_code_twice_says_it_has_ended_and_changes_nothing(client, clock):
    services.create_discount_code(code="ONCE", percent=10, actor=make_admin(), now=clock.now)
    discount_id = _code("ONCE").id
    login_as(client, make_admin())
    client.post(f"/admin/discount-codes/{discount_id}/end")
    ended_at = clock.now
    clock.advance(hours=1)

    response = client.post(f"/admin/discount-codes/{discount_id}/end", follow_redirects=True)

    assert "has already ended" in response.get_data(as_text=True)
    assert _code("ONCE").valid_until == ended_at
    assert len(audit_rows("discount_code.ended")) == 1
    assert "This code has already ended." in client.get(f"/admin/discount-codes/{discount_id}/end").get_data(
        as_text=True
    )


def test_ending_a_code_that_does_not_exist_is_not_found(client):
    login_as(client, make_admin())

    assert client.get("/admin/discount-codes/999999/end").status_code == 404
    assert client.post("/admin/discount-codes/999999/end").status_code == 404


def test_an_attendee_cannot_see_create_or_end_codes(client, clock):
    services.create_discount_code(code="STAFF", percent=100, actor=make_admin(), now=clock.now)
    discount_id = _code("STAFF").id
    login_as(client, make_user())

    assert client.get("/admin/discount-codes").status_code == 403
    assert client.get("/admin/discount-codes/new").status_code == 403
    assert client.post("/admin/discount-codes/new", data={**GOOD_CODE, "code": "MINE"}).status_code == 403
    assert client.post(f"/admin/discount-codes/{discount_id}/end").status_code == 403
    assert _code("MINE") is None and _code("STAFF").valid_until is None


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/discount-codes")

    assert response.status_code == 302 and "next=" in response.headers["Location"]


def test_discount_forms_without_a_csrf_token_change_nothing(csrf_app, clock):
    services.create_discount_code(code="KEEP", percent=10, actor=make_admin(), now=clock.now)
    discount_id = _code("KEEP").id
    client = csrf_app.test_client()
    login_as(client, make_admin())

    assert client.post("/admin/discount-codes/new", data=GOOD_CODE).status_code == 400
    assert client.post(f"/admin/discount-codes/{discount_id}/end").status_code == 400
    assert _code("NHS25") is None and _code("KEEP").valid_until is None


def test_the_console_navigation_leads_to_the_discount_codes(client):
    login_as(client, make_admin())

    page = client.get("/admin/").get_data(as_text=True)
    start = page.index('aria-label="Organiser console"')
    nav = page[start : page.index("</nav>", start)]

    assert 'href="/admin/discount-codes"' in nav and "Discount codes" in nav
    listing = client.get("/admin/discount-codes").get_data(as_text=True)
    assert 'href="/admin/discount-codes" aria-current="page"' in listing
    assert "There are no discount codes yet." in listing
