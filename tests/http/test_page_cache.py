"""The public page cache (bookings/site/page_cache.py): served from memory only while still true.

The cache is off in the test configuration; these tests turn it on with the counter read on every
request (PUBLIC_CACHE_RECHECK_SECONDS = 0), so a change is seen by the very next request.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine

from bookings.booking.services import hold_places
from bookings.catalogue.models import Event
from bookings.core.audit import record
from bookings.extensions import db
from bookings.site import page_cache, page_counter
from bookings.site.page_cache import CACHE_HEADER, PageCache, PublicPageMiddleware, public_page
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from tests.conftest import login_as
from tests.support.factories import make_api_token, make_event, make_user


@pytest.fixture
def cached(app):
    app.config.update(PUBLIC_CACHE_SECONDS=10, PUBLIC_CACHE_RECHECK_SECONDS=0)
    layer = page_cache.middleware(app)
    layer.cache = PageCache(layer.cache.max_bytes)  # nothing left from another test
    layer._lapse = None  # the counter starts again in each test's emptied tables
    yield layer
    layer.cache = PageCache(layer.cache.max_bytes)


@pytest.fixture
def count_queries(app):
    """A context manager collecting the SQL statements run inside it."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def listener(_conn, _cursor, statement, *_args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)

    return counting


def places_left(html: str) -> str:
    return re.search(r"(\d+) places? left|Fully booked|fully booked", html).group(0)


def test_a_second_anonymous_request_is_answered_from_memory_with_its_own_request_id(app, client, cached):
    event = make_event(capacity=5)
    first = client.get(f"/events/{event.slug}")
    second = client.get(f"/events/{event.slug}")
    assert (first.headers[CACHE_HEADER], second.headers[CACHE_HEADER]) == ("miss", "hit")
    assert second.data == first.data
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in second.headers


def test_a_booking_is_shown_by_the_next_anonymous_request(app, client, cached):
    event = make_event(capacity=5)
    client.get(f"/events/{event.slug}")
    assert client.get(f"/events/{event.slug}").headers[CACHE_HEADER] == "hit"
    book_one(client, event, make_api_token(make_user()))
    after = client.get(f"/events/{event.slug}")
    assert after.headers[CACHE_HEADER] == "miss"
    assert places_left(after.get_data(as_text=True)) == "4 places left"


def book_one(client, event, token):
    created = client.post(
        f"/api/v1/events/{event.id}/bookings",
        headers={"Authorization": f"Bearer {token}"},
        json={"payment": "free", "attendees": [{"name": "Grace Hopper", "email": "grace@council.example"}]},
    )
    assert created.status_code == 201, created.get_json()


def test_a_booking_through_the_api_changes_the_cached_listing_and_api(app, client, cached):
    event = make_event(capacity=3, title="Safeguarding adults level 2")
    token = make_api_token(make_user())
    client.get("/")
    assert client.get("/api/v1/events").get_json()["events"][0]["places_left"] == 3
    book_one(client, event, token)
    assert client.get("/api/v1/events").get_json()["events"][0]["places_left"] == 2
    assert "2 places left" in client.get("/").get_data(as_text=True)


def test_an_event_edit_is_shown_at_once(app, client, cached):
    event = make_event(title="Data protection basics")
    assert "Data protection basics" in client.get("/").get_data(as_text=True)
    event.title = "Data protection in practice"
    db.session.commit()
    assert "Data protection in practice" in client.get("/").get_data(as_text=True)


def test_writes_to_tables_no_public_page_shows_keep_the_cached_answer(app, client, cached, clock):
    event = make_event()
    client.get(f"/events/{event.slug}")
    record("test.note", "event", event.id, actor_id=None, at=clock())
    db.session.commit()
    assert client.get(f"/events/{event.slug}").headers[CACHE_HEADER] == "hit"


def test_an_answer_is_not_served_once_older_than_the_limit(app, client, cached, clock):
    event = make_event()
    client.get(f"/events/{event.slug}")
    clock.advance(seconds=9)
    assert client.get(f"/events/{event.slug}").headers[CACHE_HEADER] == "hit"
    clock.advance(seconds=2)
    assert client.get(f"/events/{event.slug}").headers[CACHE_HEADER] == "miss"


def full_event_with_one_place_counted_until(clock, seconds_left: int, *, offer: bool):
    """An event of one place taken by a hold (or a waiting-list offer) that runs out in `seconds_left`,
    with the app's clock moved to then."""
    event = make_event(capacity=1, title="Lone worker safety")
    now = clock()
    if offer:
        entry = WaitlistEntry(
            event_id=event.id,
            user_id=make_user().id,
            places=1,
            status=WaitlistStatus.OFFERED.value,
            joined_at=now,
            offer_ticket_type_id=event.ticket_types[0].id,
            offered_at=now,
            offer_expires_at=now + timedelta(hours=1),
        )
        db.session.add(entry)
        db.session.commit()
        ends = entry.offer_expires_at
    else:
        hold = hold_places(event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=1, now=now)
        ends = hold.hold_expires_at
    clock.advance(seconds=(ends - now).total_seconds() - seconds_left)
    return event


@pytest.mark.parametrize("offer", [False, True], ids=["hold", "waiting-list offer"])
def test_a_place_counted_until_it_runs_out_shows_free_at_once_without_any_write(app, client, cached, clock, offer):
    event = full_event_with_one_place_counted_until(clock, 3, offer=offer)
    assert client.get(f"/api/v1/events/{event.id}").get_json()["places_left"] == 0
    assert client.get(f"/api/v1/events/{event.id}").headers[CACHE_HEADER] == "hit"
    clock.advance(seconds=4)  # well inside PUBLIC_CACHE_SECONDS: only the expiry ends the answer
    after = client.get(f"/api/v1/events/{event.id}")
    assert after.headers[CACHE_HEADER] == "miss"
    assert after.get_json()["places_left"] == 1
    assert client.get(f"/api/v1/events/{event.id}").headers[CACHE_HEADER] == "hit"  # and is kept again


def test_by_default_every_request_reads_the_counter_so_another_hosts_booking_shows_at_once(app, client):
    app.config.update(PUBLIC_CACHE_SECONDS=10)  # the recheck interval left at its default
    layer = page_cache.middleware(app)
    layer.cache, layer._lapse = PageCache(layer.cache.max_bytes), None
    event = make_event(capacity=3)
    client.get(f"/api/v1/events/{event.id}")
    assert client.get(f"/api/v1/events/{event.id}").headers[CACHE_HEADER] == "hit"
    page_counter.bump_generation(db.engine)  # as another host does after its booking's commit
    assert client.get(f"/api/v1/events/{event.id}").headers[CACHE_HEADER] == "miss"
    layer.cache = PageCache(layer.cache.max_bytes)


def test_signed_in_people_always_get_their_own_page(app, client, cached):
    event = make_event()
    client.get(f"/events/{event.slug}")
    user = make_user(name="Mary Seacole")
    login_as(client, user)
    page = client.get(f"/events/{event.slug}")
    assert CACHE_HEADER not in page.headers
    assert 'method="post"' in page.get_data(as_text=True)


def test_api_requests_with_a_token_are_never_answered_from_memory(app, client, cached):
    make_event()
    token = make_api_token(make_user())
    client.get("/api/v1/events")
    answer = client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"})
    assert CACHE_HEADER not in answer.headers


def test_the_anonymous_booking_form_carries_no_token_and_sets_no_cookie(app, client, cached):
    event = make_event()
    page = client.get(f"/events/{event.slug}")
    html = page.get_data(as_text=True)
    assert 'method="get"' in html and "csrf_token" not in html
    assert "Set-Cookie" not in page.headers


def test_errors_and_refused_filters_are_not_stored(app, client, cached):
    for path in ("/events/no-such-event", "/?kind=not-a-kind"):
        client.get(path)
        assert client.get(path).headers.get(CACHE_HEADER) != "hit"


def test_a_database_change_in_another_process_is_seen(app, client, cached, database_url):
    """Another host's write reaches this one through the counter, not through this process's memory."""
    event = make_event(title="Mental health first aid")
    client.get("/")
    other = create_engine(database_url)
    try:
        page_counter.track_public_writes(other)
        with other.begin() as connection:
            connection.execute(Event.__table__.update().values(title="Mental health awareness"))
        page_counter.bump_generation(other)
    finally:
        other.dispose()
    db.session.commit()  # the test shares the request's session: end its snapshot, forget what it loaded
    page = client.get("/")
    assert page.headers[CACHE_HEADER] == "miss"
    assert "Mental health awareness" in page.get_data(as_text=True)
    assert event.id


# --- the middleware alone, on a tiny app --------------------------------------------------------------


def tiny_app(engine):
    flask_app = Flask(__name__)
    flask_app.config.update(
        SECRET_KEY="x", PUBLIC_CACHE_SECONDS=10, PUBLIC_CACHE_RECHECK_SECONDS=0, PUBLIC_CACHE_MAX_BYTES=1_000_000
    )
    calls = []

    @flask_app.get("/open")
    @public_page
    def open_page():
        calls.append("open")
        return "same for everyone"

    @flask_app.get("/sets-cookie")
    @public_page
    def sets_cookie():
        from flask import session

        calls.append("cookie")
        session["seen"] = True
        return "with a cookie"

    @flask_app.get("/unmarked")
    def unmarked():
        calls.append("unmarked")
        return "not public"

    flask_app.wsgi_app = PublicPageMiddleware(flask_app.wsgi_app, flask_app, engine)
    return flask_app, calls


@pytest.fixture
def counter_engine():
    engine = create_engine("sqlite://")
    db.metadata.create_all(engine)  # the counter, and the holds and offers whose expiry ends an answer
    yield engine
    engine.dispose()


def test_only_marked_cookie_free_answers_are_stored(counter_engine):
    flask_app, calls = tiny_app(counter_engine)
    client = flask_app.test_client()
    for path in ("/open", "/sets-cookie", "/unmarked"):
        client.get(path)
        client.get(path)
    assert calls == ["open", "cookie", "cookie", "unmarked", "unmarked"]


def test_a_moved_counter_discards_every_stored_answer(counter_engine):
    flask_app, calls = tiny_app(counter_engine)
    client = flask_app.test_client()
    client.get("/open")
    page_counter.bump_generation(counter_engine)
    client.get("/open")
    assert calls == ["open", "open"]


def test_memory_stays_within_its_bound():
    cache = PageCache(max_bytes=8_000)
    for n in range(100):
        cache.put(f"/{n}", page_cache.Answer("200 OK", [], b"x" * 900, "/", 0, None))
    assert sum(len(cache.get(f"/{n}").body) for n in range(100) if cache.get(f"/{n}") is not None) <= 8_000
    assert cache.get("/99") is not None and cache.get("/0") is None


# --- calendar files -----------------------------------------------------------------------------------


def test_a_public_calendar_file_revalidates_from_memory(app, client, cached):
    make_event()
    etag = client.get("/events.ics").headers["ETag"]
    again = client.get("/events.ics", headers={"If-None-Match": etag})
    assert (again.status_code, again.headers[CACHE_HEADER], again.data) == (304, "hit", b"")


@pytest.fixture
def feed_memo(cached):
    from bookings.calendar import views as calendar_views

    calendar_views._validated_feeds.clear()
    yield calendar_views._validated_feeds
    calendar_views._validated_feeds.clear()


def test_a_personal_feed_polled_with_its_etag_is_answered_without_loading_the_bookings(
    app, client, feed_memo, clock, count_queries
):
    from bookings.calendar.services import regenerate_feed_token

    user = make_user()
    token = make_api_token(user)
    book_one(client, make_event(), token)
    feed = f"/calendar/{regenerate_feed_token(user.id, clock())}.ics"
    etag = client.get(feed).headers["ETag"]
    with count_queries() as statements:
        polled = client.get(feed, headers={"If-None-Match": etag})
    assert polled.status_code == 304
    assert not [s for s in statements if "FROM booking" in s]


def test_a_personal_feed_changes_as_soon_as_a_booking_does(app, client, feed_memo, clock):
    from bookings.calendar.services import regenerate_feed_token

    user = make_user()
    token = make_api_token(user)
    book_one(client, make_event(title="First aid at work"), token)
    feed = f"/calendar/{regenerate_feed_token(user.id, clock())}.ics"
    etag = client.get(feed).headers["ETag"]
    book_one(client, make_event(title="Fire marshal training"), token)
    changed = client.get(feed, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Fire marshal training" in changed.get_data(as_text=True)
