"""The app as a live server sees it: `gunicorn tests.support.serve:app`, configured from the environment.

- BOOKINGS_TEST_DB_URL: the database (required; the schema must already exist).
- BOOKINGS_TEST_CONFIG: JSON object of config overrides, e.g. {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 2525}.
- BOOKINGS_TEST_NOW: optional ISO datetime; fixes the app clock there (the server's time stands still).
- BOOKINGS_TEST_PARENT_PID: the test process; when it is gone (killed without clean-up), the server
  ends its own process group (gunicorn and its workers), so no server outlives its test run.

The config is the test config (`create_app("test", ...)`) with CSRF protection left on, as in production.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
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


def _end_when_orphaned(parent_pid: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os.killpg(os.getpgrp(), signal.SIGTERM)  # the live server runs in a process group of its own
            return


def watch_parent() -> None:
    parent = os.environ.get("BOOKINGS_TEST_PARENT_PID")
    if parent:
        threading.Thread(target=_end_when_orphaned, args=(int(parent),), daemon=True).start()


app = build_app()
watch_parent()
