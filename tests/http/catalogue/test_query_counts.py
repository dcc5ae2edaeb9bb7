"""The listing and the event page issue a fixed number of SQL queries, however much there is to show."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event as sa_event

from bookings.extensions import db
from tests.conftest import login_as
from tests.integration.catalogue.bookings_helper import add_booking
from tests.support.factories import make_admin, make_event

RATES = [
    {"name": "Public sector", "price_pence": 9500},
    {"name": "Private sector", "price_pence": 19500, "cap": 5},
    {"name": "Early bird", "price_pence": 7500},
]


@contextmanager
def counting_queries():
    statements: list[str] = []

    def _count(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", _count)


def make_events(count: int, clock) -> None:
    for n in range(count):
        event = make_event(days=3, ticket_types=RATES, starts_at=clock.now + timedelta(days=10 + n))
        add_booking(event, 2)
        add_booking(event, 1, status="held", hold_expires_at=clock.now + timedelta(minutes=5))
    db.session.expire_all()


def count_request_queries(app, client, path: str) -> int:
    """Queries issued by one GET, in a fresh app context: nothing cached, as for a real request."""
    with app.app_context(), counting_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_listing_query_count_does_not_grow_with_events(app, clock):
    app.config["CATALOGUE_PAGE_SIZE"] = 50
    make_events(3, clock)
    few = count_request_queries(app, app.test_client(), "/")

    make_events(27, clock)
    many = count_request_queries(app, app.test_client(), "/")

    assert many == few


def test_filtered_listing_query_count_does_not_grow_with_events(app, clock):
    app.config["CATALOGUE_PAGE_SIZE"] = 50
    make_events(3, clock)
    few = count_request_queries(app, app.test_client(), "/?kind=course&q=test&format=in-person")

    make_events(27, clock)
    many = count_request_queries(app, app.test_client(), "/?kind=course&q=test&format=in-person")

    assert many == few


def test_event_page_query_count_does_not_grow_with_sessions_and_rates(app, clock, booking_endpoints):
    small = make_event(days=1, ticket_types=RATES[:1])
    add_booking(small, 1)
    large = make_event(
        days=10, ticket_types=[{"name": f"Rate {n}", "price_pence": 1000 * n, "cap": 20} for n in range(10)]
    )
    for rate in large.ticket_types:
        add_booking(large, 1, ticket_type_id=rate.id)
    small_slug, large_slug = small.slug, large.slug
    client = app.test_client()

    assert count_request_queries(app, client, f"/events/{large_slug}") == count_request_queries(
        app, client, f"/events/{small_slug}"
    )


def test_event_page_query_count_is_the_same_for_a_signed_in_admin(app, clock, booking_endpoints):
    small = make_event(days=1, status="draft")
    large = make_event(days=10, status="draft", ticket_types=RATES * 3)
    small_slug, large_slug = small.slug, large.slug
    client = app.test_client()
    login_as(client, make_admin())

    assert count_request_queries(app, client, f"/events/{large_slug}") == count_request_queries(
        app, client, f"/events/{small_slug}"
    )
