"""Every email has an HTML version on the shared layout and a plain-text twin, and the checker used on
delivered mail catches what it claims to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.notifications.conftest import accessibility_problems

EMAILS = Path(__file__).resolve().parents[3] / "templates" / "emails"
KINDS = sorted(p.stem for p in EMAILS.glob("*.html") if not p.name.startswith("_"))


def test_every_kind_of_email_is_listed():
    assert {"event_changed", "event_cancelled", "reminder", "booking_confirmed", "waitlist_offer"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_html_email_extends_the_layout_and_has_a_plain_text_twin(kind):
    html = (EMAILS / f"{kind}.html").read_text()
    assert html.startswith('{% extends "emails/_layout.html" %}')
    assert "<h1" in html
    assert (EMAILS / f"{kind}.txt").read_text().strip()


GOOD = (
    '<!DOCTYPE html><html lang="en"><head><title>Booking confirmed</title></head><body>'
    '<h1>Confirmed</h1><h2>Places</h2><p><a href="https://x.example/b/1">View your booking</a></p></body></html>'
)


def test_the_checker_passes_a_good_email():
    assert accessibility_problems(GOOD) == []


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (GOOD.replace(' lang="en"', ""), "no lang on <html>"),
        (GOOD.replace("Booking confirmed", ""), "no <title>"),
        (GOOD.replace("View your booking", "click here"), "link text that does not say where it goes: 'click here'"),
        (GOOD.replace("<h2>Places</h2>", "<h3>Places</h3>"), "heading level skips from h1 to h3"),
        (
            GOOD.replace("<p>", "<table><tr><td>").replace("</p>", "</td></tr></table>"),
            "a table without role=presentation",
        ),
        (GOOD.replace("<h2>", '<img src="logo.png"><h2>'), "an image without alt: logo.png"),
    ],
)
def test_the_checker_catches_an_inaccessible_email(broken, problem):
    assert problem in accessibility_problems(broken)


BARE_URL_LINK = re.compile(r"<a\b[^>]*>\s*\{\{[^}]*\}\}\s*</a>")


@pytest.mark.parametrize("kind", KINDS)
def test_no_html_email_uses_a_bare_address_as_link_text(kind):
    # A screen reader reads such a link out character by character; the text should say where it goes.
    assert BARE_URL_LINK.findall((EMAILS / f"{kind}.html").read_text()) == []
