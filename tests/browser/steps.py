"""What a person does in the browser, and the checks every page they reach must pass.

`audit(page, name)` is called on each page a journey arrives at: axe-core for
WCAG 2.2 AA (any violation fails), then the same page at 320 x 640 CSS pixels
(WCAG 1.4.10 reflow: nothing may need horizontal scrolling), then a screenshot
into test-artifacts/screenshots/ when the page is worth keeping.
"""

from __future__ import annotations

import itertools
import re

from playwright.sync_api import Page, expect

from tests.support.browser import axe_check, save_screenshot
from tests.support.factories import PASSWORD

REFLOW_VIEWPORT = {"width": 320, "height": 640}
DESKTOP_VIEWPORT = {"width": 1280, "height": 720}


# The elements sticking out past the right edge (innermost first), to say what to fix when a page is too wide.
OVERFLOWING = """() => {
  const edge = document.documentElement.clientWidth + 0.5;
  const scrollsItself = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  const wide = (el) => el.getBoundingClientRect().right > edge && !scrollsItself(el);
  return [...document.querySelectorAll("body *")]
    .filter(wide)
    .filter((el) => ![...el.children].some(wide))
    .slice(0, 5)
    .map((el) => el.outerHTML.slice(0, 160));
}"""


def reflow_width(page: Page) -> tuple[int, list[str]]:
    """The page's scroll width at 320 x 640 and what sticks out; the viewport is put back afterwards."""
    before = page.viewport_size or DESKTOP_VIEWPORT
    page.set_viewport_size(REFLOW_VIEWPORT)
    try:
        return page.evaluate("document.documentElement.scrollWidth"), page.evaluate(OVERFLOWING)
    finally:
        page.set_viewport_size(before)


# Headings in order (axe's heading-order is a best practice, outside the WCAG tags): one h1, never a level skipped.
HEADINGS = """() => [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
  .map((h) => [Number(h.tagName[1]), h.textContent.trim().replace(/\\s+/g, " ").slice(0, 60)])"""


def heading_problems(headings: list[list]) -> list[str]:
    problems = []
    if [level for level, _ in headings].count(1) != 1:
        problems.append(f"{[level for level, _ in headings].count(1)} h1 headings")
    for (before, _), (level, text) in itertools.pairwise(headings):
        if level > before + 1:
            problems.append(f"h{level} '{text}' follows h{before}")
    return problems


def audit(page: Page, name: str | None = None) -> None:
    """Fail on any WCAG 2.2 AA violation axe finds, headings out of order, or horizontal scrolling at 320 px."""
    violations = axe_check(page)
    assert not violations, violations.report()
    headings = page.evaluate(HEADINGS)
    assert not heading_problems(headings), f"{page.url}: {heading_problems(headings)} in {headings}"
    width, overflowing = reflow_width(page)
    assert width <= REFLOW_VIEWPORT["width"], (
        f"{page.url} needs horizontal scrolling at 320 px: scrollWidth {width}; too wide: {overflowing}"
    )
    if name:
        save_screenshot(page, name)


def sign_up(page: Page, base: str, *, name: str, email: str, organisation: str = "Exampleton Council") -> None:
    page.goto(f"{base}/")
    page.get_by_role("link", name="Create an account").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    audit(page, "register")
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Organisation").fill(organisation)
    page.get_by_label("Public sector").check()
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    audit(page)


def sign_in(page: Page, base: str, email: str, *, check: bool = False) -> None:
    """Sign in through the form (a fresh context has no session)."""
    page.goto(f"{base}/sign-in")
    if check:
        audit(page, "sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def find_event(page: Page, base: str, title: str, *, check: bool = False) -> None:
    """Search the catalogue for `title` and open its page."""
    page.goto(f"{base}/")
    page.get_by_label("Search").fill(title)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]q="))
    if check:
        audit(page, "catalogue-search")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    if check:
        audit(page, "event")


def book_places(page: Page, places: int, *, rate: str | None = None) -> str:
    """From an event page: choose a rate and a number of places; returns the booking reference."""
    if rate:
        page.get_by_label(rate).check()
    page.get_by_label("Number of places").fill(str(places))
    page.get_by_role("button", name="Book").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who is attending?")
    return re.search(r"/bookings/(BK-[A-Z0-9-]+)/attendees", page.url).group(1)


def fill_attendee(page: Page, index: int, *, name: str, email: str, organisation: str = "") -> None:
    place = page.locator("fieldset").filter(has=page.locator(f"#attendees-{index}-name"))
    place.get_by_label("Full name").fill(name)
    place.get_by_label("Email address").fill(email)
    if organisation:
        place.get_by_label("Organisation (optional)").fill(organisation)


def continue_to_review(page: Page) -> None:
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")


def expect_confirmed(page: Page, reference: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking confirmed")
    expect(page.locator(".govuk-panel")).to_contain_text(reference)


def confirm_free_booking(event_id: int, booker, people: list[tuple[str, str]]) -> str:
    """Someone else books free places through the booking services (not the browser); returns the reference."""
    from bookings.booking import services
    from bookings.booking.inputs import AttendeeInput
    from bookings.booking.models import PaymentMethod
    from bookings.core.clock import utcnow

    booking = services.hold_places(
        event_id=event_id, booker_id=booker.id, ticket_type_id=None, places=len(people), now=utcnow()
    )
    attendees = [
        AttendeeInput(
            name=name, email=email, organisation="", job_title="", dietary_needs="", access_needs="", answers={}
        )
        for name, email in people
    ]
    services.save_attendee_details(reference=booking.reference, actor=booker, people=attendees, now=utcnow())
    services.confirm_booking(reference=booking.reference, actor=booker, method=PaymentMethod.FREE, now=utcnow())
    return booking.reference
