"""Add-to-calendar links for Google Calendar and Outlook on the web (pure: no app, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

GOOGLE_BASE = "https://calendar.google.com/calendar/render"
OUTLOOK_BASE = "https://outlook.office.com/calendar/0/deeplink/compose"
# Links carry the whole description in the URL; keep them well under the lengths browsers and servers accept.
MAX_DETAILS_CHARS = 1000


@dataclass(frozen=True)
class LinkSession:
    title: str
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    details: str = ""
    location: str = ""


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAILS_CHARS else text[: MAX_DETAILS_CHARS - 1] + "…"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("link times must be timezone-aware")
    return value.astimezone(UTC)


def google_link(session: LinkSession) -> str:
    """Google's template link; times in UTC, so the reader's own zone shows them right."""
    dates = f"{_utc(session.starts_at):%Y%m%dT%H%M%SZ}/{_utc(session.ends_at):%Y%m%dT%H%M%SZ}"
    params = {"action": "TEMPLATE", "text": session.title, "dates": dates, "details": _short(session.details)}
    if session.location:
        params["location"] = session.location
    return f"{GOOGLE_BASE}?{urlencode(params)}"


def outlook_link(session: LinkSession) -> str:
    """Outlook on the web's compose deep link (works for work and personal accounts)."""
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": session.title,
        "startdt": f"{_utc(session.starts_at):%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{_utc(session.ends_at):%Y-%m-%dT%H:%M:%SZ}",
        "body": _short(session.details),
    }
    if session.location:
        params["location"] = session.location
    return f"{OUTLOOK_BASE}?{urlencode(params)}"
