"""Demo data: a realistic catalogue of UK public-sector events and two demo accounts.

`load_demo_data(now)` is idempotent: events are keyed by slug and accounts by
email, so running it again adds nothing. Dates are relative to `now`, so a
fresh load always looks upcoming. Bookings that fill the nearly full and the
fully booked courses are written with the same models the booking area uses.

`python -m bookings.demo --print-logins` prints the demo logins (no database needed).
"""

from __future__ import annotations

import argparse
from datetime import datetime

from flask import current_app

from bookings.demo.catalogue import demo_catalogue
from bookings.demo.loading import _load
from bookings.demo.people import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ATTENDEE_EMAIL,
    ATTENDEE_NAMES,
    ATTENDEE_PASSWORD,
    DEMO_BOOKERS,
    DEMO_LOGINS,
    DemoAccount,
    print_logins,
)
from bookings.demo.specs import LONDON, UTC, VAT_STANDARD_BP, Ask, DemoEvent, Fill, Rate


def load_demo_data(now: datetime, reset: bool = False) -> list[str]:
    """Load the demo catalogue and accounts; returns lines saying what was done. Safe to run again."""
    if reset and current_app.config.get("ENV_NAME") == "production":
        raise RuntimeError("The demo data cannot be reset in production.")
    return _load(now, reset)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bookings demo data.")
    parser.add_argument("--print-logins", action="store_true", help="print the demo accounts and passwords")
    args = parser.parse_args(argv)
    if args.print_logins:
        print("\n".join(print_logins()))
    else:
        parser.print_help()


__all__ = [
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "ATTENDEE_EMAIL",
    "ATTENDEE_NAMES",
    "ATTENDEE_PASSWORD",
    "DEMO_BOOKERS",
    "DEMO_LOGINS",
    "LONDON",
    "UTC",
    "VAT_STANDARD_BP",
    "Ask",
    "DemoAccount",
    "DemoEvent",
    "Fill",
    "Rate",
    "demo_catalogue",
    "load_demo_data",
    "main",
    "print_logins",
]
