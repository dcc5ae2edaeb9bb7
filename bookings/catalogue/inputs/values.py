"""Parsers for single values (text, integers, choices, slugs, URLs, currencies, zones, datetimes) and their limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from bookings.core.sanitise import clean_rich_text

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
DEFAULT_CURRENCY = "GBP"
DEFAULT_VAT_RATE_BP = 2000
MAX_VAT_RATE_BP = 10_000
MAX_PER_BOOKING_LIMIT = 1000
MAX_LIST_ITEMS = 100  # sessions or rates per event
MAX_INTEGER = 2**31 - 1  # what every database column holds
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class FieldError(Exception):
    """One field's problem; the parser collects these into a ValidationError."""


# --- single values -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_known_timezone(name: str) -> bool:
    return name in _known_zones()


def _rich_text(max_length: int) -> Callable[[Any], str]:
    """Organisers' rich text (event descriptions): checked like text, then sanitised (HTML) for storage."""
    parse_text = _text(max_length)

    def parse(value: Any) -> str:
        return clean_rich_text(parse_text(value))

    return parse


def _text(max_length: int, *, required: bool = False, what: str = "a value") -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise FieldError("Must be text.")
        value = value.strip()
        if required and not value:
            raise FieldError(f"Enter {what}.")
        if len(value) > max_length:
            raise FieldError(f"Must be {max_length} characters or fewer.")
        return value

    return parse


def _integer(minimum: int, maximum: int = MAX_INTEGER, *, nullable: bool = False) -> Callable[[Any], int | None]:
    def parse(value: Any) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("Must be a whole number.")
        if value < minimum:
            raise FieldError(f"Must be {minimum} or more.")
        if value > maximum:
            raise FieldError(f"Must be {maximum} or less.")
        return value

    return parse


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError("Must be true or false.")
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise FieldError(f"Must be one of: {', '.join(choices)}.")
        return value

    return parse


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not is_known_timezone(value):
        raise FieldError("Must be an IANA timezone name, such as Europe/London.")
    return value


def _slug(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 120 or not SLUG_PATTERN.match(value):
        raise FieldError("Must be lower-case letters, digits and single hyphens, 120 characters or fewer.")
    return value


def _url(value: Any) -> str:
    value = _text(500)(value)
    if value and not re.match(r"^https?://[^\s/]+", value):
        raise FieldError("Must be a web address starting with https:// or http://.")
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or not CURRENCY_PATTERN.match(value.upper()):
        raise FieldError("Must be a three-letter currency code, such as GBP.")
    return value.upper()


def parse_datetime(value: Any, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or a datetime; naive values are wall-clock time in `zone`."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) < 16 or text[10] not in "Tt ":
            raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
    if not isinstance(value, datetime):
        raise FieldError("Must be a date and time in ISO 8601, such as 2027-03-27T09:30:00+00:00.")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise FieldError(f"Must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _datetime(*, nullable: bool) -> Callable[[Any, ZoneInfo], datetime | None]:
    def parse(value: Any, zone: ZoneInfo) -> datetime | None:
        if value is None and nullable:
            return None
        return parse_datetime(value, zone)

    return parse
