"""The public listing at `/`: what is listed, the filters, search and pagination."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bookings.catalogue.views import date_range
from tests.integration.catalogue.bookings_helper import add_booking
from tests.support.factories import at, make_event


def titles(response) -> list[str]:
    """Event titles in listing order (the card headings link to the event pages)."""
    html = response.get_data(as_text=True)
    return [t.strip() for t in re.findall(r'<a class="govuk-link" href="/events/[^"]+">([^<]+)</a>', html)]


def test_listing_shows_published_upcoming_events_soonest_first(client, clock):
    make_event(title="Later course", starts_at=at(2027, 3, 10, 9))
    make_event(title="Sooner course", starts_at=at(2027, 1, 10, 9))

    response = client.get("/")

    assert response.status_code == 200
    assert titles(response) == ["Sooner course", "Later course"]


def test_listing_hides_drafts_past_and_cancelled_events(client, clock):
    make_event(title="Published course")
    make_event(title="Draft course", status="draft")
    make_event(title="Cancelled course", status="cancelled")
    make_event(title="Past course", starts_at=clock.now - timedelta(days=3))

    assert titles(client.get("/")) == ["Published course"]


def test_event_still_running_stays_listed_until_its_last_session_ends(client, clock):
    make_event(title="Three day course", starts_at=clock.now - timedelta(days=1), days=3)

    assert titles(client.get("/")) == ["Three day course"]
    clock.advance(days=3)
    assert titles(client.get("/")) == []


def test_listing_item_shows_kind_dates_venue_price_and_places(client, clock):
    event = make_event(
        title="Dementia care conference",
        kind="conference",
        starts_at=at(2027, 3, 9, 9, 30),
        days=2,
        capacity=5,
        venue_name="Manchester Central",
        prices_include_vat=False,
        ticket_types=[{"name": "Public sector", "price_pence": 9500}, {"name": "Private sector", "price_pence": 19500}],
    )
    add_booking(event, 2)

    html = client.get("/").get_data(as_text=True)

    assert "Conference" in html
    assert "9 to 10 March 2027" in html
    assert "Manchester Central" in html
    assert "From £95.00 plus VAT" in html
    assert "3 places left" in html


def test_listing_item_shows_online_free_and_fully_booked(client, clock):
    event = make_event(title="Webinar", kind="webinar", is_online=True, capacity=1)
    add_booking(event, 1)

    html = client.get("/").get_data(as_text=True)

    assert "Online" in html
    assert "Free" in html
    assert "Fully booked" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=webinar", ["Online webinar"]),
        ("kind=conference", ["March conference"]),
        ("format=online", ["Online webinar"]),
        ("format=in-person", ["March conference", "April course"]),
        ("month=2027-03", ["March conference"]),
        ("month=2027-04", ["April course", "Online webinar"]),
        ("kind=course&month=2027-04", ["April course"]),
    ],
)
def test_filters_narrow_the_listing(client, clock, query, expected):
    make_event(title="March conference", kind="conference", starts_at=at(2027, 3, 2, 9))
    make_event(title="April course", kind="course", starts_at=at(2027, 4, 6, 9))
    make_event(title="Online webinar", kind="webinar", is_online=True, starts_at=at(2027, 4, 20, 13))

    assert titles(client.get(f"/?{query}")) == expected


def test_month_filter_includes_event_running_into_the_month(client, clock):
    make_event(title="Across the month end", starts_at=at(2027, 3, 30, 9), days=3)

    assert titles(client.get("/?month=2027-04")) == ["Across the month end"]
    assert titles(client.get("/?month=2027-03")) == ["Across the month end"]
    assert titles(client.get("/?month=2027-05")) == []


def test_free_text_matches_title_summary_and_venue_ignoring_case(client, clock):
    make_event(title="Safeguarding adults")
    make_event(title="Data protection", summary="UK GDPR for managers")
    make_event(title="Leadership", venue_name="Leeds Civic Hall")
    make_event(title="Unrelated")

    assert titles(client.get("/?q=SAFEGUARDING")) == ["Safeguarding adults"]
    assert titles(client.get("/?q=gdpr")) == ["Data protection"]
    assert titles(client.get("/?q=civic hall")) == ["Leadership"]


@pytest.mark.parametrize(
    "text",
    ["%", "_", "'", '"', "\\", "' OR '1'='1", "'; DROP TABLE event; --", '" OR 1=1 --', "100%_/"],
)
def test_free_text_treats_wildcards_quotes_and_sql_as_plain_text(client, clock, text):
    make_event(title="Safeguarding adults")
    make_event(title="Rates up 100%_/ this year")

    response = client.get("/", query_string={"q": text})

    assert response.status_code == 200
    # Only the title that really contains the characters matches: % and _ are not wildcards here.
    expected = ["Rates up 100%_/ this year"] if text in ("%", "_", "100%_/") else []
    assert titles(response) == expected
    assert titles(client.get("/")) == ["Safeguarding adults", "Rates up 100%_/ this year"]


def test_search_with_a_nul_character_is_answered_not_crashed(client, clock):
    make_event(title="Safeguarding adults")

    response = client.get("/", query_string={"q": "safe\x00guarding"})

    # Refused at the edge, as any text with a control character is (bookings/site/text_guard.py).
    assert response.status_code == 400
    assert "There is a problem" in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=party", "Choose a type of event from the list"),
        ("month=March", "Choose a month from the list"),
        ("month=2027-13", "Choose a month from the list"),
        ("format=hybrid", "Choose online or in person"),
    ],
)
def test_bad_filter_shows_error_summary_and_no_results(client, clock, query, message):
    make_event(title="Safeguarding adults")

    response = client.get(f"/?{query}")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert message in html
    assert "<title>Error:" in html
    assert titles(response) == []


def test_search_longer_than_limit_is_an_error(client, clock):
    response = client.get("/", query_string={"q": "x" * 101})

    assert response.status_code == 400
    assert "Search must be 100 characters or fewer" in response.get_data(as_text=True)


def test_filter_form_keeps_the_chosen_values(client, clock):
    html = client.get("/?kind=course&format=online&month=2027-02&q=first+aid").get_data(as_text=True)

    assert '<option value="course" selected>' in html
    assert '<option value="online" selected>' in html
    assert '<option value="2027-02" selected>' in html
    assert 'value="first aid"' in html


def test_pagination_splits_the_listing_and_keeps_filters(app, client, clock):
    app.config["CATALOGUE_PAGE_SIZE"] = 2
    for n in range(5):
        make_event(title=f"Course {n}", starts_at=at(2027, 1, 10 + n, 9))

    first = client.get("/?kind=course")
    third = client.get("/?kind=course&page=3")

    assert titles(first) == ["Course 0", "Course 1"]
    assert titles(third) == ["Course 4"]
    html = first.get_data(as_text=True)
    assert "govuk-pagination" in html
    assert "page=2" in html and "kind=course" in html
    assert "5 events" in html


@pytest.mark.parametrize("page", ["4", "0", "-1", "two"])
def test_page_out_of_range_is_not_found(app, client, clock, page):
    app.config["CATALOGUE_PAGE_SIZE"] = 2
    for n in range(5):
        make_event(title=f"Course {n}")

    assert client.get(f"/?page={page}").status_code == 404


def test_empty_listing_says_nothing_matches(client, clock):
    response = client.get("/?kind=workshop")

    assert response.status_code == 200
    assert "No upcoming events match your filters" in response.get_data(as_text=True)
    assert "govuk-pagination" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        (at(2027, 3, 9, 9), at(2027, 3, 9, 16), "9 March 2027"),
        (at(2027, 3, 9, 9), at(2027, 3, 11, 16), "9 to 11 March 2027"),
        (at(2027, 3, 30, 9), at(2027, 4, 2, 16), "30 March to 2 April 2027"),
        (at(2027, 12, 30, 9), at(2028, 1, 2, 16), "30 December 2027 to 2 January 2028"),
        # 23:30 UTC on 31 March is 00:30 on 1 April in London (BST).
        (at(2027, 3, 31, 23, 30), at(2027, 4, 1, 3), "1 April 2027"),
    ],
)
def test_date_range_is_written_gov_uk_style_in_the_events_timezone(app, start, end, text):
    assert date_range(start, end, "Europe/London") == text
