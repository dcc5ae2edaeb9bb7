"""The app as a live server sees it: `gunicorn tests.support.serve:app`, configured from the environment.

- BOOKINGS_TEST_DB_URL: the database (required; the schema must already exist).
- BOOKINGS_TEST_CONFIG: JSON object of config overrides, e.g. {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 2525}.
- BOOKINGS_TEST_NOW: optional ISO datetime; fixes the app clock there (the server's time stands still).

The config is the test config (`create_app("test", ...)`) with CSRF protection left on, as in production.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from bookings import create_app
from bookings.core import clock


def build_app():
    url = os.environ["BOOKINGS_TEST_DB_URL"]
    overrides = json.loads(os.environ.get("BOOKINGS_TEST_CONFIG") or "{}")
    now = os.environ.get("BOOKINGS_TEST_NOW")
    if now:
        fixed = datetime.fromisoformat(now)
        fixed = fixed if fixed.tzinfo else fixed.replace(tzinfo=UTC)
        clock.set_clock(lambda: fixed)
    return create_app("test", SQLALCHEMY_DATABASE_URI=url, **overrides)


app = build_app()
