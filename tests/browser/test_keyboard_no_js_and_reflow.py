"""The booking journey three more ways: keyboard only, without JavaScript, and on a 320 px wide screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.steps import (
    REFLOW_VIEWPORT,
    book_places,
    continue_to_review,
    expect_confirmed,
    fill_attendee,
    sign_in,
)
from tests.support.browser import save_screenshot
from tests.support.factories import PASSWORD, make_event, make_user

pytestmark = pytest.mark.browser

MAX_TABS = 80
GOVUK_FOCUS_YELLOW = "rgb(255, 221, 0)"
GOVUK_FOCUS_TEXT = "rgb(11, 12, 12)"

# What the focused element looks like: a visible outline or a box-shadow on it. GOV.UK radios and
# checkboxes hide the native input and draw the focus ring on the label's ::before, so look there for those.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {target: "body", visible: false};
  const drawn = (style) => {
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
      && !/rgba\\(\\d+, \\d+, \\d+, 0\\)|transparent/.test(style.outlineColor);
    return outline || (style.boxShadow && style.boxShadow !== "none");
  };
  let visible = drawn(getComputedStyle(el));
  if (!visible && el.matches(".govuk-radios__input, .govuk-checkboxes__input")) {
    const label = document.querySelector(`label[for="${el.id}"]`);
    visible = !!label && drawn(getComputedStyle(label, "::before"));
  }
  const name = (el.getAttribute("aria-label") || el.textContent || el.value || "")
    .trim().replace(/\\s+/g, " ").slice(0, 40);
  return {target: `${el.tagName.toLowerCase()}#${el.id} "${name}"`, visible};
}"""


def tab_to(page: Page, selector: str, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `selector` has focus, checking every stop on the way shows its focus."""
    stops = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focus = page.evaluate(FOCUS_STYLE)
        stops.append(focus["target"])
        assert focus["visible"], f"no visible focus indicator on {focus['target']} ({page.url})"
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took focus on {page.url}; focus went: {stops}")


def type_into(page: Page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_keyboard_alone_books_places_with_focus_always_visible(app, live_server, page):
    base = live_server.url
    user = make_user(name="Ravi Kumar", email="ravi.kumar@council.example")
    event = make_event(
        title="Plain English for public services",
        capacity=10,
        ticket_types=[{"name": "Council staff", "price_pence": 0}, {"name": "Charity staff", "price_pence": 0}],
    )

    page.goto(f"{base}/sign-in?next=/events/{event.slug}")
    type_into(page, "#email", user.email)
    type_into(page, "#password", PASSWORD)
    tab_to(page, "button[type=submit], input[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(event.title)

    # The rate is a radio group: Tab into it, arrows move between rates.
    tab_to(page, "input[name=ticket_type_id]")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Charity staff: Free")).to_be_checked()
    type_into(page, "#places", "2")
    tab_to(page, "form button.govuk-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who is attending?")

    type_into(page, "#attendees-1-email", "mei.lin@charity.example")
    tab_to(page, "#attendees-1-name", backwards=True)  # back up to the field before it
    page.keyboard.type("Mei Lin")
    tab_to(page, "form:not([action$='/cancel']) button.govuk-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")

    tab_to(page, "form[action$='/review'] button.govuk-button")
    page.keyboard.press("Space")
    reference = re.search(r"/bookings/(BK-[A-Z0-9-]+)", page.url).group(1)
    expect_confirmed(page, reference)
    expect(page.get_by_role("cell", name=re.compile("^Mei Lin"))).to_be_visible()


def test_menu_links_take_the_govuk_focus_style(app, live_server, page):
    page.goto(f"{live_server.url}/")
    tab_to(page, ".app-nav__link")

    focused = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.backgroundColor, s.color, s.textDecorationLine]; }"
    )

    # GOV.UK's focus state (yellow behind black text, no underline), not only the browser's own ring.
    assert focused == [GOVUK_FOCUS_YELLOW, GOVUK_FOCUS_TEXT, "none"]


def test_booking_without_javascript_completes_a_free_booking(app, live_server, browser):
    base = live_server.url
    user = make_user(name="Ade Bello")
    event = make_event(title="Writing for the web", capacity=10)
    context = browser.new_context(java_script_enabled=False, locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    try:
        sign_in(page, base, user.email)
        page.goto(f"{base}/events/{event.slug}")
        # The GOV.UK Frontend page marks <body> only when its script runs: proof that nothing ran.
        expect(page.locator("body")).not_to_have_class(re.compile("govuk-frontend-supported"))
        reference = book_places(page, 2)
        # The hold is stated; the countdown, which only app.js fills, is not shown as an empty "Time left:".
        hold = page.locator(".app-hold")
        expect(hold).to_contain_text("We are holding 2 places for you until", use_inner_text=True)
        expect(hold).not_to_contain_text("Time left", use_inner_text=True)
        fill_attendee(page, 1, name="Kim Osei", email="kim.osei@council.example")
        continue_to_review(page)
        page.get_by_role("button", name="Confirm booking").click()
        expect_confirmed(page, reference)
    finally:
        context.close()


def test_booking_journey_at_320_px_never_needs_horizontal_scrolling(app, live_server, browser):
    base = live_server.url
    user = make_user(name="Grace Owusu")
    event = make_event(title="Introduction to freedom of information requests", capacity=10)
    context = browser.new_context(viewport=REFLOW_VIEWPORT, locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    widths = {}

    def measure() -> None:
        widths[page.url.removeprefix(base)] = page.evaluate("document.documentElement.scrollWidth")

    try:
        sign_in(page, base, user.email)
        measure()
        page.goto(f"{base}/")
        measure()
        page.goto(f"{base}/events/{event.slug}")
        measure()
        reference = book_places(page, 2)
        measure()
        fill_attendee(page, 1, name="Femi Adeyemi", email="femi.adeyemi@council.example")
        continue_to_review(page)
        measure()
        save_screenshot(page, "review-320px")
        page.get_by_role("button", name="Confirm booking").click()
        expect_confirmed(page, reference)
        measure()
        save_screenshot(page, "confirmation-320px")
        page.goto(f"{base}/my-bookings")
        measure()
    finally:
        context.close()
    too_wide = {path: width for path, width in widths.items() if width > REFLOW_VIEWPORT["width"]}
    assert not too_wide, f"pages wider than 320 px: {too_wide}"
