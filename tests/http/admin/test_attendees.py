"""Attendee list, exports (CSV and Excel, safe from formula injection, needs left out unless asked), sign-in sheet,
phone check-in and the attendance export for CPD."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Attendee
from bookings.extensions import db
from tests.conftest import login_as
from tests.integration.admin.support import audit_rows, book
from tests.support.factories import make_admin, make_event
from tests.support.markup import unlabelled_table_wrappers

DANGEROUS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]


@pytest.fixture
def event(clock):
    event = make_event(days=2, capacity=20)
    people = [
        AttendeeInput(
            name="Ada Lovelace",
            email="ada@council.example",
            organisation='=HYPERLINK("http://evil")',
            dietary_needs="Vegan",
            access_needs="Step-free access",
        ),
        AttendeeInput(name="Grace Hopper", email="grace@council.example", organisation="+1+1"),
    ]
    book(event, clock.now, people=people)
    return event


def _csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_attendee_list_shows_people_booked(client, event):
    login_as(client, make_admin())

    page = client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)

    assert page.index("Ada Lovelace") < page.index("Grace Hopper")
    assert "2 people booked; 0 checked in" in page


def test_the_attendee_table_scrolls_in_a_labelled_region_a_keyboard_can_reach(client, event):
    login_as(client, make_admin())

    page = client.get(f"/admin/events/{event.id}/attendees").get_data(as_text=True)

    assert unlabelled_table_wrappers(page) == []
    assert '<div class="app-table-wrapper" role="region" aria-label="People booked" tabindex="0">' in page


def test_csv_export_is_utf8_with_a_bom_and_neutralises_formulas(client, event):
    login_as(client, make_admin())

    response = client.get(f"/admin/events/{event.id}/attendees.csv")

    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    organisations = {row[0]: row[2] for row in rows[1:]}
    assert organisations == {"Ada Lovelace": '\'=HYPERLINK("http://evil")', "Grace Hopper": "'+1+1"}


def test_exports_leave_out_access_and_dietary_needs_by_default(client, event):
    login_as(client, make_admin())

    for fmt in ("csv", "xlsx"):
        response = client.get(f"/admin/events/{event.id}/attendees.{fmt}")
        body = _csv_rows(response) if fmt == "csv" else _xlsx_rows(response)
        flat = " ".join(str(cell) for row in body for cell in row)
        assert "Vegan" not in flat and "Step-free" not in flat and "Dietary needs" not in flat


def test_exports_include_needs_when_the_admin_ticks_the_box(client, event):
    login_as(client, make_admin())

    rows = _csv_rows(client.get(f"/admin/events/{event.id}/attendees.csv?include_needs=yes"))

    assert rows[0][-2:] == ["Dietary needs", "Access needs"]
    assert rows[1][-2:] == ["Vegan", "Step-free access"]


def test_excel_export_opens_with_openpyxl_and_holds_no_formula(client, event):
    login_as(client, make_admin())

    response = client.get(f"/admin/events/{event.id}/attendees.xlsx")

    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    workbook = load_workbook(io.BytesIO(response.get_data()))
    cells = [cell for row in workbook.active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert '\'=HYPERLINK("http://evil")' in [cell.value for cell in cells]


@pytest.mark.parametrize("value", DANGEROUS)
def test_every_formula_start_is_prefixed(value):
    from bookings.admin.exports import safe_cell

    assert safe_cell(value) == "'" + value


def test_ordinary_text_and_numbers_are_left_alone():
    from bookings.admin.exports import safe_cell

    assert (safe_cell("Exampleton Council"), safe_cell(7.5), safe_cell(None)) == ("Exampleton Council", 7.5, "")


def test_attendance_export_gives_hours_for_those_checked_in(client, event):
    admin = make_admin()
    login_as(client, admin)
    ada = db.session.query(Attendee).filter_by(name="Ada Lovelace").one()
    client.post(f"/admin/events/{event.id}/check-in/{ada.id}")

    rows = _xlsx_rows(client.get(f"/admin/events/{event.id}/attendance.xlsx"))

    assert rows[0] == ["Name", "Email", "Organisation", "Event", "Dates", "Hours attended", "Checked in"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Ada Lovelace"][5] == 14  # two seven-hour days
    assert by_name["Ada Lovelace"][6] == "yes"
    assert by_name["Grace Hopper"][5:] == [0, "no"]
    assert by_name["Ada Lovelace"][4].count(",") == 1  # two dates


def test_sign_in_sheet_lists_everyone_for_printing(client, event):
    login_as(client, make_admin())

    page = client.get(f"/admin/events/{event.id}/sign-in-sheet").get_data(as_text=True)

    assert "Ada Lovelace" in page and "Grace Hopper" in page and "Signature" in page
    assert "app-no-print" in page


def test_check_in_page_searches_by_name(client, event):
    login_as(client, make_admin())

    page = client.get(f"/admin/events/{event.id}/check-in?q=grace").get_data(as_text=True)

    assert "Grace Hopper" in page and "Ada Lovelace" not in page
    assert "Mark as attended" in page


def test_mark_as_attended_then_undo(client, event, clock):
    login_as(client, make_admin())
    ada = db.session.query(Attendee).filter_by(name="Ada Lovelace").one()

    response = client.post(f"/admin/events/{event.id}/check-in/{ada.id}", data={"q": "ada"})

    assert response.status_code == 302 and response.headers["Location"].endswith("check-in?q=ada")
    db.session.rollback()
    assert db.session.get(Attendee, ada.id).checked_in_at == clock.now
    assert "Undo" in client.get(f"/admin/events/{event.id}/check-in?q=ada").get_data(as_text=True)
    client.post(f"/admin/events/{event.id}/check-in/{ada.id}/undo")
    db.session.rollback()
    assert db.session.get(Attendee, ada.id).checked_in_at is None
    assert len(audit_rows("attendee.check_in_undone")) == 1


def test_checking_in_an_attendee_of_another_event_changes_nothing(client, event, clock):
    other = make_event()
    stranger = book(other, clock.now).attendees[0]
    login_as(client, make_admin())

    client.post(f"/admin/events/{event.id}/check-in/{stranger.id}")

    db.session.rollback()
    assert db.session.get(Attendee, stranger.id).checked_in_at is None


def test_check_in_without_a_csrf_token_changes_nothing(csrf_app, event):
    client = csrf_app.test_client()
    login_as(client, make_admin())
    ada = db.session.query(Attendee).filter_by(name="Ada Lovelace").one()

    assert client.post(f"/admin/events/{event.id}/check-in/{ada.id}").status_code == 400
    db.session.rollback()
    assert db.session.get(Attendee, ada.id).checked_in_at is None


def test_control_characters_in_a_name_do_not_break_the_excel_export(client, clock):
    event = make_event()
    book(event, clock.now, people=[AttendeeInput(name="Bell\x07 Ringer", email="bell@council.example")])
    login_as(client, make_admin())

    response = client.get(f"/admin/events/{event.id}/attendees.xlsx")

    assert response.status_code == 200
    assert _xlsx_rows(response)[1][0] == "Bell Ringer"
