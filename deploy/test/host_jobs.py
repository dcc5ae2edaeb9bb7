"""An app host's timers, sped up for the deployment test: `flask bookings sweep` and `send-mail` every few seconds.

On a real host systemd runs those two commands from bookings-sweep.timer and
bookings-mail.timer (deploy/systemd). Starting `flask` costs seconds of CPU,
which two hosts on a 2-core machine cannot spare every two seconds, so this
process loads the app once and runs the very same click commands in a loop.
A run that fails (the database restarting) is logged and the next one comes
round, as with a timer.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bookings.cli import bookings_cli
from bookings.extensions import db
from wsgi import app

INTERVAL_SECONDS = float(os.environ.get("HOST_JOBS_INTERVAL", "2"))
log = logging.getLogger("bookings.host_jobs")


def run(command: str) -> None:
    with app.app_context():
        try:
            bookings_cli.main(args=[command], prog_name="flask bookings", standalone_mode=False)
        except Exception:  # a timer's run fails and the next one comes round
            log.warning("flask bookings %s failed", command, exc_info=True)
        finally:
            db.session.remove()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s host_jobs %(levelname)s %(message)s")
    while True:
        run("sweep")
        run("send-mail")
        sys.stdout.flush()
        time.sleep(INTERVAL_SECONDS)


if __name__ == "__main__":
    main()
