"""Every URL rule, four visitors: what each may see is written down here, and checked.

A new route fails this test until it has a row in ACCESS. Values:
an HTTP status, "login" (redirected to sign in), "redirect" (anywhere else),
or STATE for a state-changing request that is allowed and so not sent (the
walk must not change what the next visitor sees; those paths have their own tests).
Parameters come from objects owned by attendee A ("owner"); "other" is attendee B.
GET+POST rules are walked with GET; POST-only rules with POST and a valid CSRF token.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import login_as
from tests.security.walk import VISITORS, classify, make_visitor, url_values, visit

STATE = "state-changing: not sent"
PUBLIC = {"anon": 200, "owner": 200, "other": 200, "admin": 200}


def admin_only_get():
    return {"anon": "login", "owner": 403, "other": 403, "admin": 200}


def admin_only_post():
    return {"anon": "login", "owner": 403, "other": 403, "admin": STATE}


def mine_get():
    """A's own thing: A and admins see it, B gets a 404 (not even its existence), anon signs in."""
    return {"anon": "login", "owner": 200, "other": 404, "admin": 200}


def mine_post():
    return {"anon": "login", "owner": STATE, "other": 404, "admin": STATE}


def signed_in_get():
    """Each signed-in person's own page (it shows only their own things)."""
    return {"anon": "login", "owner": 200, "other": 200, "admin": 200}


ACCESS: dict[str, dict[str, object]] = {
    # --- public pages and files
    "site.accessibility": PUBLIC,
    "site.privacy": PUBLIC,
    "site.healthz": PUBLIC,
    # Readiness, the same for everyone: 503 here because the test schema is made by create_all, not migrations.
    "site.readyz": {"anon": 503, "owner": 503, "other": 503, "admin": 503},
    "static": PUBLIC,
    "catalogue.index": PUBLIC,
    "catalogue.event": PUBLIC,
    "calendar.catalogue_feed": PUBLIC,
    "calendar.event_file": PUBLIC,
    # A capability URL: whoever holds A's unguessable feed token reads A's feed (revocable).
    "calendar.personal_feed": PUBLIC,
    # --- accounts
    "accounts.login": {"anon": 200, "owner": "redirect", "other": "redirect", "admin": "redirect"},
    "accounts.register": PUBLIC,
    "accounts.registered": PUBLIC,
    "accounts.request_reset": PUBLIC,
    "accounts.reset_sent": PUBLIC,
    "accounts.reset_password": {"anon": 400, "owner": 400, "other": 400, "admin": 400},  # a guessed token
    "accounts.logout": {"anon": "redirect", "owner": STATE, "other": STATE, "admin": STATE},
    "accounts.account": signed_in_get(),
    "accounts.api_tokens": signed_in_get(),
    "accounts.change_password": signed_in_get(),
    "accounts.revoke_token": mine_post(),  # A's token id: B gets 404
    # "Are you sure?" before revoking: only the token's owner sees it (tokens are not the admin's to revoke).
    "accounts.confirm_revoke_token": {"anon": "login", "owner": 200, "other": 404, "admin": 404},
    "calendar.regenerate_feed": {"anon": "login", "owner": STATE, "other": STATE, "admin": STATE},
    "calendar.revoke_feed": {"anon": "login", "owner": STATE, "other": STATE, "admin": STATE},
    # Each person's own feed: A has an address to confirm changing; B and the admin have none, so back to the account.
    "calendar.confirm_regenerate_feed": {"anon": "login", "owner": 200, "other": "redirect", "admin": "redirect"},
    "calendar.confirm_revoke_feed": {"anon": "login", "owner": 200, "other": "redirect", "admin": "redirect"},
    "privacy.download_data": signed_in_get(),
    "privacy.close_account": signed_in_get(),
    # --- booking (A's booking)
    "booking.my_bookings": signed_in_get(),
    "booking.start": signed_in_get(),  # anyone signed in may book A's event
    "booking.detail": mine_get(),
    "booking.cancel": mine_get(),
    "booking.substitute": mine_get(),
    # A's booking is confirmed: details and review send A (and admins) on to the booking page.
    "booking.attendees": {"anon": "login", "owner": "redirect", "other": 404, "admin": "redirect"},
    "booking.review": {"anon": "login", "owner": "redirect", "other": 404, "admin": "redirect"},
    "calendar.booking_file": {"anon": 404, "owner": 200, "other": 404, "admin": 200},
    # --- payments (A's booking and invoice)
    "payments.overview": mine_get(),
    "payments.checkout": {"anon": "login", "owner": "redirect", "other": 404, "admin": "redirect"},
    "payments.checkout_return": mine_get(),
    "payments.document_html": mine_get(),
    "payments.document_pdf": mine_get(),
    "payments.apply_discount": mine_post(),
    "payments.stripe_webhook": {"anon": 400, "owner": 400, "other": 400, "admin": 400},  # unsigned: refused
    # --- waiting list (A's entry on the full event)
    "waitlist.mine": signed_in_get(),
    "waitlist.join": signed_in_get(),
    "waitlist.leave": mine_post(),
    "waitlist.confirm_leave": mine_get(),
    "waitlist.claim": {"anon": "login", "owner": 404, "other": 404, "admin": 404},  # a guessed claim token
    "waitlist.decline": {"anon": "login", "owner": 404, "other": 404, "admin": 404},
    "waitlist.confirm_decline": {"anon": "login", "owner": 404, "other": 404, "admin": 404},
    "waitlist.admin_list": admin_only_get(),
    "waitlist.admin_export": admin_only_get(),
    "waitlist.admin_capacity": admin_only_post(),
    "waitlist.admin_offer": admin_only_post(),
    "waitlist.admin_send_offers": admin_only_post(),
    "waitlist.admin_status": admin_only_post(),
    # --- organiser console
    "admin.dashboard": admin_only_get(),
    "admin.events": admin_only_get(),
    "admin.new_event": admin_only_get(),
    "admin.event": admin_only_get(),
    "admin.edit_event": admin_only_get(),
    "admin.move_event": admin_only_get(),
    "admin.cancel_event": admin_only_get(),
    "admin.attendees": admin_only_get(),
    "admin.export_attendees": admin_only_get(),
    "admin.export_attendance": admin_only_get(),
    "admin.check_in": admin_only_get(),
    "admin.sign_in_sheet": admin_only_get(),
    "admin.book_on_behalf": admin_only_get(),
    "admin.bookings": admin_only_get(),
    "admin.booking": admin_only_get(),
    "admin.audit_log": admin_only_get(),
    "admin.discount_codes": admin_only_get(),
    "admin.new_discount_code": admin_only_get(),
    "admin.end_discount_code": admin_only_get(),
    "admin.publish_event": admin_only_post(),
    "admin.unpublish_event": admin_only_post(),
    "admin.duplicate_event": admin_only_post(),
    "admin.add_question": admin_only_post(),
    "admin.remove_question": admin_only_post(),
    "admin.mark_attended": admin_only_post(),
    "admin.undo_attended": admin_only_post(),
    "admin.cancel_booking": admin_only_post(),
    "admin.mark_paid": admin_only_post(),
    "admin.resend_confirmation": admin_only_post(),
    "admin.retry_email": admin_only_post(),
    # --- JSON API (bearer tokens only)
    "api.openapi_document": PUBLIC,
    "api.list_events": PUBLIC,
    "api.get_event": PUBLIC,
    "api.my_bookings": {"anon": 401, "owner": 200, "other": 200, "admin": 200},
    "api.get_booking": {"anon": 401, "owner": 200, "other": 404, "admin": 200},
    "api.cancel_booking": {"anon": 401, "owner": STATE, "other": 404, "admin": STATE},
    # Anyone with a token may book; the walk's empty body is refused before anything is written.
    "api.create_booking": {"anon": 401, "owner": 422, "other": 422, "admin": 422},
    "api.create_event": {"anon": 401, "owner": 403, "other": 403, "admin": STATE},
    "api.update_event": {"anon": 401, "owner": 403, "other": 403, "admin": STATE},
    "api.my_waitlist": {"anon": 401, "owner": 200, "other": 200, "admin": 200},
    # Anyone with a token may join a list; the walk's empty body is refused before anything is written.
    "api.join_waitlist": {"anon": 401, "owner": 422, "other": 422, "admin": 422},
    "api.leave_waitlist": {"anon": 401, "owner": STATE, "other": 404, "admin": STATE},
    "api.claim_offer": {"anon": 401, "owner": STATE, "other": 404, "admin": STATE},
    "api.decline_offer": {"anon": 401, "owner": STATE, "other": 404, "admin": STATE},
}


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.endpoint)


def _method(rule) -> str:
    methods = rule.methods - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def test_every_route_has_a_row_in_the_access_table(csrf_app):
    missing = [f"{rule.endpoint} ({rule.rule})" for rule in _rules(csrf_app) if rule.endpoint not in ACCESS]
    assert not missing, (
        "Add these routes to ACCESS in tests/security/test_authorisation_walk.py, "
        "saying what anon, owner, other and admin get: " + ", ".join(missing)
    )


def test_no_row_names_a_route_that_is_gone(csrf_app):
    endpoints = {rule.endpoint for rule in _rules(csrf_app)}
    assert not sorted(set(ACCESS) - endpoints)


def test_each_visitor_gets_what_the_table_says(csrf_app, csrf_world):
    visitors = {name: make_visitor(csrf_app, name, csrf_world, login_as) for name in VISITORS}
    observed: dict[str, dict[str, object]] = {}
    wrong: list[str] = []
    for rule in _rules(csrf_app):
        expected = ACCESS.get(rule.endpoint)
        method = _method(rule)
        with csrf_app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **url_values(rule, csrf_world))
        observed[rule.endpoint] = {}
        for name in VISITORS:
            want = None if expected is None else expected.get(name)
            if want == STATE:
                observed[rule.endpoint][name] = STATE
                continue
            if method != "GET" and expected is None and name in ("owner", "admin"):
                observed[rule.endpoint][name] = "?"
                continue
            response = visit(visitors[name], rule, path, method)
            got = classify(response)
            response.close()
            observed[rule.endpoint][name] = got
            if expected is not None and got != want:
                wrong.append(f"{rule.endpoint} {method} {path} as {name}: expected {want!r}, got {got!r}")
    if os.environ.get("SECURITY_WALK_RECORD"):
        for endpoint, row in observed.items():
            print(f'    "{endpoint}": {row},')
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", VISITORS)
def test_visitors_are_who_the_walk_says(csrf_app, csrf_world, name):
    visitor = make_visitor(csrf_app, name, csrf_world, login_as)
    response = visitor.client.get("/account")
    assert classify(response) == ("login" if name == "anon" else 200)
