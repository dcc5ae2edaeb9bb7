"""Jinja filters and globals. Templates display values computed beforehand; these only format."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from bookings.core.money import format_money
from bookings.core.sanitise import rich_text
from bookings.core.urls import absolute_url

DEFAULT_ZONE = ZoneInfo("Europe/London")


@lru_cache(maxsize=1)
def inline_script_hashes() -> tuple[str, ...]:
    """CSP sources ('sha256-...') for the inline scripts of GOV.UK's page template (the js-enabled class).

    Hashes rather than a per-response nonce: the same page is then the same bytes for every visitor,
    so public pages can be cached whole (bookings/site/page_cache.py). Read from the installed template,
    so an upgrade of govuk-frontend-jinja that changes the script changes the hash with it."""
    import govuk_frontend_jinja

    template = Path(govuk_frontend_jinja.__file__).parent / "templates" / "template.html"
    scripts = re.findall(r"<script[^>]*>(.+?)</script>", template.read_text(), flags=re.S)
    return tuple(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in scripts
        if "{{" not in body and "{%" not in body
    )


def local_time(value: datetime | None, zone: str | ZoneInfo | None = None) -> datetime | None:
    if value is None:
        return None
    tz = ZoneInfo(zone) if isinstance(zone, str) else (zone or DEFAULT_ZONE)
    return value.astimezone(tz)


def format_date(value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
    local = local_time(value, zone)
    return "" if local is None else f"{local.day} {local:%B %Y}"


def format_day(value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
    local = local_time(value, zone)
    return "" if local is None else f"{local:%A} {local.day} {local:%B %Y}"


def format_time(value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
    """GOV.UK style: 9am, 2:30pm, midday."""
    local = local_time(value, zone)
    if local is None:
        return ""
    if local.hour == 12 and local.minute == 0:
        return "midday"
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def format_datetime(value: datetime | None, zone: str | ZoneInfo | None = None) -> str:
    if value is None:
        return ""
    return f"{format_time(value, zone)} on {format_day(value, zone)}"


def money(pence: int, currency: str = "GBP") -> str:
    return format_money(pence, currency)


def price(pence: int, currency: str = "GBP") -> str:
    return "Free" if pence == 0 else format_money(pence, currency)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=format_date,
        day=format_day,
        time=format_time,
        datetime=format_datetime,
        money=money,
        price=price,
        ordinal=ordinal,
        rich_text=rich_text,
    )
    app.jinja_env.globals.update(plural=plural, has_endpoint=has_endpoint, absolute_url=absolute_url)

    @app.context_processor
    def _site():
        return {"site_name": app.config["SITE_NAME"], "organiser_name": app.config["ORGANISER_NAME"]}
