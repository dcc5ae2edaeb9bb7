"""A full event in Chromium: join the waiting list, receive the offer by email (SMTP sink), claim it and book.

Leaving and declining ask first, on a page of their own that works without JavaScript.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bookings.booking import services as booking_services
from bookings.core.clock import utcnow
from bookings.notifications.outbox import deliver_pending
from bookings.waitlist import services as waitlist_services
from tests.browser.steps import audit, confirm_free_booking, continue_to_review, expect_confirmed, sign_in
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.browser


def plain_text(message) -> str:
    return message.get_body(("plain",)).get_content()


def ask_then_go_back(page, action: str, question: str, back: str, back_heading: str) -> None:
    """An action that cannot be undone asks first (WCAG 3.3.4); going back from there changes nothing."""
    page.get_by_role("link", name=action).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(question)
    audit(page, "confirm-" + action.split()[0].lower())
    page.get_by_role("link", name=back).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(back_heading)


def test_join_the_waiting_list_of_a_full_event_receive_the_offer_and_claim_it(app, live_server, mail, page):
    base = live_server.url
    event = make_event(title="Mental health first aid", capacity=1)
    holder = make_user(name="Jo Patel")
    waiter = make_user(name="Chris Evans", email="chris.evans@charity.example")
    reference = confirm_free_booking(event.id, holder, [(holder.name, holder.email)])

    sign_in(page, base, waiter.email)
    page.goto(f"{base}/events/{event.slug}")
    expect(page.get_by_text("This event is fully booked.")).to_be_visible()
    audit(page, "event-full")
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the waiting list")
    audit(page, "waitlist-join")

    page.get_by_role("button", name="Join the waiting list").click()  # without agreeing to emails
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    audit(page)
    page.get_by_label("Email me when places are offered to me").check()
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are on the waiting list")
    expect(page.locator("#position")).to_have_text("You are 1st in line")
    audit(page, "waitlist-position")
    page.get_by_role("link", name="All your waiting lists").click()
    expect(page.get_by_role("link", name=re.compile("^Mental health first aid"))).to_be_visible()
    audit(page, "my-waiting-lists")

    # Leaving asks first (WCAG 3.3.4); keeping the place changes nothing.
    ask_then_go_back(
        page,
        "Leave the waiting list for Mental health first aid",
        "Are you sure you want to leave the waiting list for Mental health first aid?",
        "No, keep my place",
        "My waiting lists",
    )
    expect(page.get_by_text("You are 1st in line")).to_be_visible()

    # The place comes free: it is offered to the waiting list first, and the offer goes out by email.
    booking_services.cancel_booking(reference=reference, actor=holder, now=utcnow())
    deliver_pending(utcnow())
    offer = mail.wait_for(lambda m: m["To"] == waiter.email and "/waitlist/claim/" in plain_text(m))
    body = plain_text(offer[0])
    claim_path = re.search(r"https?://[^/\s]+(/waitlist/claim/\S+)", body).group(1)

    page.goto(f"{base}{claim_path}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Claim your places")
    audit(page, "waitlist-claim")
    ask_then_go_back(
        page,
        "Decline the offer",
        "Are you sure you want to decline the places at Mental health first aid?",
        "No, go back to the offer",
        "Claim your places",
    )
    page.get_by_role("button", name="Claim 1 place").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who is attending?")
    expect(page.locator("#attendees-0-name")).to_have_value("Chris Evans")
    continue_to_review(page)
    page.get_by_role("button", name="Confirm booking").click()
    new_reference = re.search(r"/bookings/(BK-[A-Z0-9-]+)", page.url).group(1)
    expect_confirmed(page, new_reference)
    audit(page)


def test_leave_the_waiting_list_without_javascript_after_confirming(app, live_server, browser):
    base = live_server.url
    event = make_event(title="Safeguarding adults", capacity=1)
    holder = make_user()
    waiter = make_user(name="Sam Okafor")
    confirm_free_booking(event.id, holder, [(holder.name, holder.email)])
    waitlist_services.join_waitlist(event_id=event.id, user=waiter, places=1, has_email_consent=True, now=utcnow())
    context = browser.new_context(java_script_enabled=False, locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    try:
        sign_in(page, base, waiter.email)
        page.goto(f"{base}/events/{event.slug}/waitlist")
        expect(page.locator("#position")).to_have_text("You are 1st in line")
        page.get_by_role("link", name="Leave the waiting list").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Are you sure you want to leave the waiting list for Safeguarding adults?"
        )
        page.get_by_role("button", name="Yes, leave the waiting list").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My waiting lists")
        expect(page.get_by_text("You have left the waiting list for Safeguarding adults.")).to_be_visible()
        expect(page.get_by_text("You are not on any waiting list.")).to_be_visible()
    finally:
        context.close()
