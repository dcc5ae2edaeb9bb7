"""Rule 2 through the public page cache, across processes: what one host changes, another shows at once.

One process answers anonymous `GET /api/v1/events/<id>` with its page cache on, as a second app
host would; this process writes as the other host. A hold taken here shows there on the next
request, and when that hold runs out, with nothing written, it stops counting there at once too.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from bookings import create_app
from bookings.booking import services
from bookings.core.clock import utcnow
from bookings.extensions import db
from tests.concurrency import workers
from tests.support.factories import make_event, make_user

pytestmark = pytest.mark.concurrency

HOLD_LEFT_SECONDS = 3.0


def answer_reads(url: str, path: str, asks, answers) -> None:
    """The other host: answers each 'get' with (where the answer came from, places left), until 'stop'."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url, PUBLIC_CACHE_SECONDS=10)  # the cache on, as deployed
    client = app.test_client()
    try:
        while asks.get(timeout=60) == "get":
            response = client.get(path)
            answers.put((response.headers.get("X-Bookings-Cache"), response.get_json()["places_left"]))
    except Exception as error:  # reported to the test, which fails on it
        answers.put(("crash", repr(error)))
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_another_hosts_hold_shows_at_once_and_stops_counting_at_once(race_db, mp):
    race_app = workers.app_for(race_db)
    with race_app.app_context():
        event_id, booker_id = make_event(capacity=2).id, make_user().id
        db.session.remove()
        db.engine.dispose()
    asks, answers = mp.Queue(), mp.Queue()
    reader = mp.Process(target=answer_reads, args=(race_db, f"/api/v1/events/{event_id}", asks, answers))
    reader.start()

    def read() -> tuple[str, int]:
        asks.put("get")
        return answers.get(timeout=60)

    try:
        assert read() == ("miss", 2)
        assert read() == ("hit", 2)
        with race_app.app_context():
            # Taken here, as on another host: a 30-minute hold with HOLD_LEFT_SECONDS to run.
            made_at = utcnow() - timedelta(minutes=30) + timedelta(seconds=HOLD_LEFT_SECONDS)
            hold = services.hold_places(
                event_id=event_id, booker_id=booker_id, ticket_type_id=None, places=1, now=made_at
            )
            ends_at = hold.hold_expires_at
            db.session.remove()
        assert read() == ("miss", 1)
        assert read() == ("hit", 1)
        assert utcnow() < ends_at  # still within the hold: the answers above were read while it counted
        while utcnow() <= ends_at:
            time.sleep(0.05)
        assert read() == ("miss", 2)  # nothing was written: the answer ended with the hold
    finally:
        asks.put("stop")
        reader.join(timeout=60)
        with race_app.app_context():
            db.engine.dispose()
