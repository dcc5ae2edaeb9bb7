"""Attacks on the app: swapped ids, missing CSRF tokens, XSS and formula payloads, SQL strings, bad bodies."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from bookings.accounts.models import ApiToken
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.core.tokens import new_reference
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.waitlist.models import WaitlistEntry
from tests.conftest import login_as
from tests.security.conftest import bearer
from tests.security.walk import CSRF_FIELD
from tests.support.factories import make_event

XSS = '<script>alert("xss")</script>"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
SQL_STRINGS = ["' OR '1'='1", "'; DROP TABLE booking; --", '" OR 1=1 --', "1 UNION SELECT password_hash FROM user--"]


def _booking(world) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, world.booking.id)


# ---------------------------------------------------------------- another person's things, by swapping ids


@pytest.mark.parametrize(
    "path",
    [
        "/bookings/{ref}",
        "/bookings/{ref}/cancel",
        "/bookings/{ref}/attendees",
        "/bookings/{ref}/attendees/{attendee}/substitute",
        "/bookings/{ref}/payment",
        "/bookings/{ref}/documents/{kind}/{number}",
        "/bookings/{ref}/documents/{kind}/{number}.pdf",
        "/bookings/{ref}.ics",
    ],
)
def test_another_attendee_cannot_read_a_booking_or_its_invoice(client, world, path):
    login_as(client, world.other)
    url = path.format(
        ref=world.booking.reference, attendee=world.attendee_id, kind=world.document.kind, number=world.document.number
    )
    response = client.get(url)
    assert response.status_code == 404
    assert b"Ann Owner" not in response.data


def test_a_lower_case_reference_is_no_way_round(client, world):
    login_as(client, world.other)
    assert client.get(f"/bookings/{world.booking.reference.lower()}").status_code == 404


def test_another_attendee_cannot_cancel_a_booking(client, world):
    login_as(client, world.other)
    assert client.post(f"/bookings/{world.booking.reference}/cancel", data={"confirm": "yes"}).status_code == 404
    assert _booking(world).status == BookingStatus.CONFIRMED.value


def test_another_attendee_cannot_substitute_an_attendee(client, world):
    login_as(client, world.other)
    response = client.post(
        f"/bookings/{world.booking.reference}/attendees/{world.attendee_id}/substitute",
        data={"name": "Mallory", "email": "mallory@evil.example"},
    )
    assert response.status_code == 404
    assert _booking(world).attendees[0].name == "Ann Owner"


def test_an_attendee_id_from_another_booking_is_refused(client, world, clock):
    """B substitutes on B's own booking, but names A's attendee id."""
    bobs = booking_services.book_places(
        event_id=world.event.id,
        booker=world.other,
        ticket_type_id=None,
        people=[AttendeeInput(name="Bob Other", email="bob@council.example")],
        method=PaymentMethod.INVOICE,
        now=clock.now,
    )
    login_as(client, world.other)
    response = client.post(
        f"/bookings/{bobs.reference}/attendees/{world.attendee_id}/substitute",
        data={"name": "Mallory", "email": "mallory@evil.example"},
    )
    assert response.status_code == 404
    assert _booking(world).attendees[0].email == "ann@council.example"


def test_another_attendee_cannot_leave_a_waiting_list_entry(client, world):
    login_as(client, world.other)
    assert client.post(f"/waitlist/{world.entry.id}/leave").status_code == 404
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, world.entry.id).status == "waiting"


def test_another_attendee_cannot_revoke_an_api_token(client, world):
    login_as(client, world.other)
    assert client.post(f"/account/tokens/{world.owner_api_token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me/bookings", headers=bearer(world.owner_token)).status_code == 200


def test_api_another_attendee_cannot_read_or_cancel_a_booking(client, world):
    headers = bearer(world.other_token)
    assert client.get(f"/api/v1/bookings/{world.booking.reference}", headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/bookings/{world.booking.reference}/cancel", headers=headers, json={}).status_code == 404
    )
    assert _booking(world).status == BookingStatus.CONFIRMED.value


def test_api_another_attendee_cannot_leave_a_waiting_list_entry(client, world):
    assert client.delete(f"/api/v1/waitlist/{world.entry.id}", headers=bearer(world.other_token)).status_code == 404


def test_api_my_lists_hold_only_my_things(client, world):
    bookings = client.get("/api/v1/me/bookings", headers=bearer(world.other_token)).get_data(as_text=True)
    entries = client.get("/api/v1/me/waitlist", headers=bearer(world.other_token)).get_data(as_text=True)
    assert world.booking.reference not in bookings
    assert f'"id": {world.entry.id}' not in entries and f'"id":{world.entry.id}' not in entries


def test_guessed_references_and_feed_tokens_find_nothing(client, world):
    login_as(client, world.other)
    for _ in range(20):
        assert client.get(f"/bookings/{new_reference()}").status_code == 404
    assert client.get("/calendar/" + "A" * 43 + ".ics").status_code == 404


def test_a_revoked_feed_token_finds_nothing(client, world):
    login_as(client, world.owner)
    client.post("/account/calendar-feed/revoke")
    assert client.get(f"/calendar/{world.feed_token}.ics").status_code == 404


def test_an_attendee_cannot_reach_the_console_or_its_exports(client, world):
    login_as(client, world.other)
    for path in (
        f"/admin/events/{world.event.id}/attendees.csv",
        f"/admin/events/{world.event.id}/attendees.xlsx",
        f"/admin/events/{world.full_event.id}/waitlist.csv",
        f"/admin/bookings/{world.booking.reference}",
    ):
        assert client.get(path).status_code == 403, path


def test_api_ids_far_out_of_range_are_not_found_not_server_errors(client, world):
    big = 2**70
    assert client.get(f"/api/v1/events/{big}", headers=bearer(world.admin_token)).status_code == 404
    response = client.delete(f"/api/v1/waitlist/{big}", headers=bearer(world.owner_token))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/admin/events/{big}", "/admin/events/{big}/attendees", "/admin/events/{event}/check-in/{big}/undo"]
)
def test_web_ids_far_out_of_range_are_not_found_not_server_errors(client, world, path):
    login_as(client, world.admin)
    url = path.format(big=2**70, event=world.event.id)
    response = client.post(url) if url.endswith("/undo") else client.get(url)
    assert response.status_code == 404


# ---------------------------------------------------------------- CSRF


CSRF_POSTS = [
    ("/sign-in", "anon", {"email": "ann@council.example", "password": "correct horse battery staple"}),
    ("/register", "anon", {"name": "X", "email": "x@council.example", "password": "a long enough password 1"}),
    ("/password-reset", "anon", {"email": "ann@council.example"}),
    ("/sign-out", "owner", {}),
    ("/account/password", "owner", {"current_password": "x", "new_password": "y"}),
    ("/account/tokens", "owner", {"name": "sneaky"}),
    ("/account/tokens/{token_id}/revoke", "owner", {}),
    ("/account/calendar-feed", "owner", {}),
    ("/account/calendar-feed/revoke", "owner", {}),
    ("/account/close", "owner", {"password": "correct horse battery staple", "confirm": "y"}),
    ("/account/data", "owner", {}),
    ("/events/{slug}/book", "owner", {"places": "1"}),
    ("/bookings/{ref}/cancel", "owner", {"confirm": "yes"}),
    ("/bookings/{ref}/discount", "owner", {"code": "X"}),
    ("/events/{full_slug}/waitlist", "owner", {"places": "1"}),
    ("/waitlist/{entry}/leave", "owner", {}),
    ("/admin/events/{event}/publish", "admin", {}),
    ("/admin/events/{event}/unpublish", "admin", {}),
    ("/admin/bookings/{ref}/cancel", "admin", {}),
    ("/admin/bookings/{ref}/mark-paid", "admin", {}),
]


@pytest.mark.parametrize(("path", "who", "data"), CSRF_POSTS, ids=[row[0] for row in CSRF_POSTS])
def test_forms_posted_without_a_csrf_token_are_refused(csrf_app, csrf_world, path, who, data):
    client = csrf_app.test_client()
    if who != "anon":
        login_as(client, getattr(csrf_world, who))
    url = path.format(
        token_id=csrf_world.owner_api_token_id,
        slug=csrf_world.event.slug,
        full_slug=csrf_world.full_event.slug,
        ref=csrf_world.booking.reference,
        entry=csrf_world.entry.id,
        event=csrf_world.event.id,
    )
    response = client.post(url, data=data)
    assert response.status_code == 400, (url, response.status_code)
    assert _booking(csrf_world).status == BookingStatus.CONFIRMED.value
    assert db.session.get(WaitlistEntry, csrf_world.entry.id).status == "waiting"


def test_a_csrf_token_from_another_session_is_refused(csrf_app, csrf_world):
    mallory = csrf_app.test_client()
    token = CSRF_FIELD.search(mallory.get("/sign-in").data).group(1).decode()
    victim = csrf_app.test_client()
    login_as(victim, csrf_world.owner)
    response = victim.post(f"/bookings/{csrf_world.booking.reference}/cancel", data={"csrf_token": token})
    assert response.status_code == 400


def test_a_browser_session_never_authorises_the_api(csrf_app, csrf_world):
    client = csrf_app.test_client()
    login_as(client, csrf_world.owner)
    assert client.get("/api/v1/me/bookings").status_code == 401
    cancel = client.post(f"/api/v1/bookings/{csrf_world.booking.reference}/cancel", json={})
    assert cancel.status_code == 401
    assert _booking(csrf_world).status == BookingStatus.CONFIRMED.value


# ---------------------------------------------------------------- XSS and injection into every output


@pytest.fixture
def poisoned(world, clock):
    """A booking whose every free-text field carries a script, a formula or a line break."""
    event = make_event(
        capacity=10,
        title=XSS + "\r\nATTENDEE:mailto:evil@evil.example",
        venue_name=XSS,
        allow_invoice=True,
        ticket_types=[{"name": "Public sector", "price_pence": 5000, "vat_rate_bp": 2000}],
    )
    booking = booking_services.book_places(
        event_id=event.id,
        booker=world.owner,
        ticket_type_id=None,
        people=[
            AttendeeInput(
                name=XSS,
                email="ann@council.example",
                organisation=FORMULA,
                job_title="+SUM(1,2)",
                dietary_needs="@cmd|' /C calc'!A0",
                access_needs="-2+3",
            )
        ],
        method=PaymentMethod.INVOICE,
        now=clock.now,
        billing=booking_services.BillingDetails(
            purchase_order=XSS, contact=XSS, email="accounts@council.example", address=XSS
        ),
    )
    return event, booking


def _no_live_markup(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert" not in html or "onerror=alert(1)&gt;" in html


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_xss_in_booking_fields_is_escaped_on_pages(client, world, poisoned, who):
    event, booking = poisoned
    login_as(client, getattr(world, who))
    paths = [f"/bookings/{booking.reference}", f"/bookings/{booking.reference}/payment", f"/events/{event.slug}"]
    if who == "admin":
        paths += [
            f"/admin/events/{event.id}/attendees",
            f"/admin/bookings/{booking.reference}",
            f"/admin/events/{event.id}/check-in",
            f"/admin/events/{event.id}/sign-in-sheet",
            f"/admin/events/{event.id}",
            "/admin/bookings",
        ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        _no_live_markup(response.get_data(as_text=True))


def test_xss_in_booking_fields_is_escaped_in_emails(world, poisoned):
    _, booking = poisoned
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.booking_reference == booking.reference))
    html_bodies = [message.html_body for message in messages if message.html_body]
    assert html_bodies
    for body in html_bodies:
        _no_live_markup(body)


def test_ics_text_cannot_add_properties(client, world, poisoned):
    event, booking = poisoned
    login_as(client, world.owner)
    for path in (
        f"/bookings/{booking.reference}.ics",
        f"/events/{event.slug}.ics",
        f"/calendar/{world.feed_token}.ics",
    ):
        text = client.get(path).get_data(as_text=True)
        unfolded = re.sub(r"\r\n[ \t]", "", text)
        lines = unfolded.split("\r\n")
        assert not [line for line in lines if line.startswith("ATTENDEE:mailto:evil")], path
        assert all(not line.startswith("<") for line in lines), path


def test_csv_export_cells_cannot_start_a_formula(client, world, poisoned):
    event, _ = poisoned
    login_as(client, world.admin)
    response = client.get(f"/admin/events/{event.id}/attendees.csv?include_needs=yes")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], cells


def test_xlsx_export_cells_cannot_start_a_formula(client, world, poisoned):
    from openpyxl import load_workbook

    event, _ = poisoned
    login_as(client, world.admin)
    response = client.get(f"/admin/events/{event.id}/attendees.xlsx?include_needs=yes")
    book = load_workbook(io.BytesIO(response.data))
    values = [cell.value for sheet in book.worksheets for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [v for v in values if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")], values
    assert all(cell.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for cell in row)


def test_exports_leave_out_needs_unless_asked(client, world, poisoned):
    event, _ = poisoned
    login_as(client, world.admin)
    text = client.get(f"/admin/events/{event.id}/attendees.csv").get_data(as_text=True)
    assert "calc" not in text and "-2+3" not in text


def test_needs_are_not_shown_to_the_api(client, world):
    text = client.get(f"/api/v1/bookings/{world.booking.reference}", headers=bearer(world.owner_token)).get_data(
        as_text=True
    )
    assert world.booking.reference in text


# ---------------------------------------------------------------- SQL strings in search and filters


@pytest.mark.parametrize("attack", SQL_STRINGS)
def test_sql_strings_in_console_searches_find_nothing_and_break_nothing(client, world, attack):
    login_as(client, world.admin)
    # (path, whether A's booking would show if the string were run as SQL rather than matched as text)
    for path, is_search in (
        ("/admin/bookings?q={a}", True),
        (f"/admin/events/{world.event.id}/check-in?q={{a}}", True),
        ("/admin/bookings?status={a}&payment_status={a}", False),
        ("/admin/events?q={a}&status={a}", False),
        ("/admin/audit?reference={a}&user={a}", False),
    ):
        response = client.get(path.format(a=attack))
        assert response.status_code in (200, 422), (path, response.status_code)
        if is_search:
            assert world.booking.reference.encode() not in response.data, path
    assert db.session.scalar(select(Booking.id).where(Booking.id == world.booking.id)) is not None


@pytest.mark.parametrize("attack", SQL_STRINGS)
def test_sql_strings_in_public_filters_are_refused_or_ignored(client, world, attack):
    for path in ("/?page={a}", "/events.ics?kind={a}", "/api/v1/events?kind={a}", "/api/v1/events?page={a}"):
        response = client.get(path.format(a=attack))
        assert response.status_code in (200, 400, 404, 422), (path, response.status_code)


# ---------------------------------------------------------------- oversized and malformed bodies


def test_an_oversized_form_is_refused_before_it_is_read(client, world):
    login_as(client, world.owner)
    response = client.post("/account/tokens", data={"name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_an_oversized_api_body_is_refused(client, world):
    body = b'{"attendees": [' + b'{"name": "x"},' * 200_000 + b"{}]}"
    response = client.post(
        f"/api/v1/events/{world.event.id}/bookings",
        data=body,
        headers={**bearer(world.owner_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"] == "too_large"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"attendees": NaN}', "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b'{"attendees": "' + b"[" * 5000 + b'"}', "application/json", 422),
    ],
)
def test_malformed_api_bodies_get_a_json_error(client, world, body, content_type, status):
    response = client.post(
        f"/api/v1/events/{world.event.id}/bookings",
        data=body,
        headers={**bearer(world.owner_token), "Content-Type": content_type},
    )
    assert response.status_code == status
    assert set(response.json) >= {"error", "message"}


def test_deeply_nested_json_is_not_a_server_error(client, world):
    body = b'{"attendees": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(
        f"/api/v1/events/{world.event.id}/bookings",
        data=body,
        headers={**bearer(world.owner_token), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- tokens, sessions and redirects


def test_api_tokens_are_stored_only_as_hashes(world):
    hashes = db.session.scalars(select(ApiToken.token_hash)).all()
    assert world.owner_token not in hashes
    assert all(len(value) == 64 for value in hashes)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "\\\\evil",
    ],
)
def test_sign_in_never_redirects_off_the_site(client, world, target):
    response = client.post("/sign-in?next=" + target, data={"email": "ann@council.example", "password": world.password})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/")
    assert not response.headers["Location"].startswith("//")
    assert "evil" not in response.headers["Location"]


def test_sign_in_starts_a_new_session(client, world):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.post("/sign-in", data={"email": "ann@council.example", "password": world.password})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_a_password_change_ends_every_other_session(client, app, world):
    other_device = app.test_client()
    login_as(other_device, world.owner)
    login_as(client, world.owner)
    client.post(
        "/account/password",
        data={"current_password": world.password, "new_password": "a brand new long passphrase 42"},
    )
    assert other_device.get("/account").status_code == 302


def test_security_headers_are_on_every_response(client, world):
    for path in ("/", "/sign-in", "/api/v1/events", "/no-such-page", "/healthz"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'unsafe-inline'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]


def test_production_sets_hsts_and_secure_cookies(database_url, _schema):
    from bookings import create_app

    app = create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="x" * 40)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"]
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.engine.dispose()
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_xss_in_an_account_name_is_escaped_on_pages_and_in_emails(client, world, clock):
    from bookings.accounts.services import change_password
    from tests.support.factories import make_user

    mallory = make_user(name=XSS, organisation=XSS)
    login_as(client, mallory)
    _no_live_markup(client.get("/account").get_data(as_text=True))
    login_as(client, world.admin)
    _no_live_markup(client.get("/admin/audit").get_data(as_text=True))
    change_password(mallory.id, world.password, "another long passphrase 77", clock.now)
    bodies = db.session.scalars(select(OutboxMessage.html_body).where(OutboxMessage.to_address == mallory.email)).all()
    assert bodies
    for body in bodies:
        _no_live_markup(body)
