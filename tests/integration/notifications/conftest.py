"""Helpers for the notification tests: bookings made through the real services, mail read from the SMTP sink."""

from __future__ import annotations

from email.message import EmailMessage
from html.parser import HTMLParser

import icalendar
import pytest

from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.core.clock import utcnow
from bookings.core.db import transactional
from bookings.notifications.outbox import deliver_pending, queue_email
from tests.fixtures_components import smtp_server, smtp_sink  # noqa: F401  (real SMTP sink fixtures)


@pytest.fixture
def book(clock):
    """book(event, booker, [(name, email), ...]) -> a confirmed free booking (emails in the outbox)."""

    def _book(event, booker, people=None, *, method=PaymentMethod.FREE) -> Booking:
        people = people or [(booker.name, booker.email)]
        return services.book_places(
            event_id=event.id,
            booker=booker,
            ticket_type_id=None,
            people=[AttendeeInput(name=name, email=email) for name, email in people],
            method=method,
            now=utcnow(),
        )

    return _book


@transactional
def queue_messages(count: int, now, prefix: str = "person") -> None:
    """Write `count` plain messages (password-changed notices) to `<prefix><n>@council.example`."""
    for n in range(count):
        queue_email(
            "password_changed",
            to=f"{prefix}{n}@council.example",
            subject=f"Your password has been changed ({n})",
            now=now,
            name=f"Person {n}",
            reset_url="https://bookings.example/reset",
        )


def deliver() -> dict[str, int]:
    return deliver_pending(utcnow())


def to(address: str):
    return lambda message: message["To"] == address


def calendar_parts(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == "text/calendar"]


def calendar_of(message: EmailMessage) -> tuple[str, icalendar.Calendar]:
    """The single calendar attachment's method parameter and its parsed content."""
    (part,) = calendar_parts(message)
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, f"{message['Subject']!r} has no HTML part"
    return part.get_content()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, f"{message['Subject']!r} has no plain-text part"
    return part.get_content()


VAGUE_LINK_TEXT = {"click here", "here", "link", "this link", "more", "read more", "click"}


class _AccessibilityChecker(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.html_lang = False
        self.title = ""
        self._in_title = False
        self._links: list[list[str]] = []
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = bool(attrs.get("lang"))
        elif tag == "title":
            self._in_title = True
        elif tag == "table" and attrs.get("role") != "presentation":
            self.problems.append("a table without role=presentation")
        elif tag == "img" and attrs.get("alt") is None:
            self.problems.append(f"an image without alt: {attrs.get('src')}")
        elif tag == "a":
            self._links.append([attrs.get("href") or "", ""])
        elif tag in {"h1", "h2", "h3", "h4"}:
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "a" and self._links:
            href, text = self._links.pop()
            text = " ".join(text.split())
            if not href:
                self.problems.append(f"a link without href: {text!r}")
            if not text or text.lower() in VAGUE_LINK_TEXT or text.startswith("http"):
                self.problems.append(f"link text that does not say where it goes: {text!r}")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        for link in self._links:
            link[1] += data


def accessibility_problems(html: str) -> list[str]:
    """What a screen-reader user would trip over in an HTML email (a small, strict subset of WCAG)."""
    checker = _AccessibilityChecker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    if not checker.html_lang:
        problems.append("no lang on <html>")
    if not checker.title.strip():
        problems.append("no <title>")
    if not checker.headings or checker.headings[0] != 1:
        problems.append("does not start with one h1")
    for before, after in zip(checker.headings, checker.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after}")
    if checker.headings.count(1) > 1:
        problems.append("more than one h1")
    return problems
