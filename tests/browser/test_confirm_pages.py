"""Revoking an API token and changing the calendar feed ask first (WCAG 3.3.4): the pages pass the audit."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bookings.accounts import services as account_services
from bookings.calendar import services as calendar_services
from bookings.core.clock import utcnow
from bookings.extensions import db
from tests.browser.steps import audit, sign_in
from tests.support.factories import make_api_token, make_user

pytestmark = pytest.mark.browser


def feed_token(user_id: int) -> str | None:
    db.session.rollback()  # a new transaction: see what the server has committed
    return calendar_services.find_feed_token(user_id)


def token_works(token: str) -> bool:
    db.session.rollback()
    return account_services.authenticate_api_token(token, utcnow()) is not None


def test_revoke_an_api_token_after_confirming(app, live_server, page):
    base = live_server.url
    user = make_user(name="Priya Shah")
    token = make_api_token(user, name="HR system")

    sign_in(page, base, user.email)
    page.goto(f"{base}/account/tokens")
    audit(page, "api-tokens")
    page.get_by_role("link", name="Revoke token HR system").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to revoke the token “HR system”?")
    audit(page, "api-token-revoke-confirm")
    page.get_by_role("link", name="No, keep the token").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    assert token_works(token)

    page.get_by_role("link", name="Revoke token HR system").click()
    page.get_by_role("button", name="Yes, revoke the token").click()
    expect(page.get_by_text("The token “HR system” has been revoked.")).to_be_visible()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    assert not token_works(token)


def test_change_and_turn_off_the_calendar_feed_after_confirming(app, live_server, page):
    base = live_server.url
    user = make_user(name="Tom Reid")
    first = calendar_services.get_or_create_feed_token(user.id, utcnow())

    sign_in(page, base, user.email)
    page.goto(f"{base}/account")
    page.get_by_role("link", name="Turn off the feed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to turn off your calendar feed?")
    audit(page, "calendar-feed-turn-off-confirm")
    page.get_by_role("link", name="No, keep the feed").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    assert feed_token(user.id) == first

    page.get_by_role("link", name="Create a new feed address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to create a new calendar feed address?"
    )
    audit(page, "calendar-feed-new-address-confirm")
    page.get_by_role("button", name="Yes, create a new address").click()
    expect(page.get_by_text("Your calendar feed has a new address.")).to_be_visible()
    second = feed_token(user.id)
    assert second not in (None, first)

    page.get_by_role("link", name="Turn off the feed").click()
    page.get_by_role("button", name="Yes, turn off the feed").click()
    expect(page.get_by_text("Your calendar feed address has been turned off.")).to_be_visible()
    assert feed_token(user.id) is None
