"""Public listing and event pages: parse the query, ask `queries`, render."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from bookings.catalogue.forms import BookPlacesForm, CatalogueFilterForm
from bookings.catalogue.queries import BookingState, PageOutOfRange, event_page, list_upcoming_events
from bookings.core import pages
from bookings.core.clock import utcnow
from bookings.site.page_cache import public_page
from bookings.site.templating import format_date, format_time, has_endpoint

bp = Blueprint("catalogue", __name__)

BOOKING_ENDPOINT = "booking.start"


@bp.get("/")
@public_page
def index():
    now = utcnow()
    form = CatalogueFilterForm(request.args, now=now)
    if not form.validate():
        # Nothing is listed until the filters make sense, so nobody mistakes unfiltered results for a match.
        return render_template("catalogue/index.html", form=form, listing=None), 400
    page = request.args.get("page", "1")
    if not page.isdigit():
        abort(404)
    try:
        listing = list_upcoming_events(
            form.filters(), now, page=int(page), per_page=current_app.config["CATALOGUE_PAGE_SIZE"]
        )
    except PageOutOfRange:
        abort(404)
    return render_template("catalogue/index.html", form=form, listing=listing, filter_args=form.query_args())


@bp.get("/events/<slug>")
@public_page
def event(slug: str):
    now = utcnow()
    if "\x00" in slug:  # PostgreSQL refuses NUL in text; no slug can contain one
        abort(404)
    is_admin = current_user.is_authenticated and current_user.is_admin
    page = event_page(slug, now, include_drafts=is_admin)
    if page is None:
        abort(404)
    form = None
    if page.state is BookingState.OPEN and has_endpoint(BOOKING_ENDPOINT):
        # Visitors who are not signed in get a GET form (no CSRF token, so no session cookie): the
        # booking area asks them to sign in, then shows their choice again. The page is then the same
        # for all of them, and can be served from the public page cache.
        signed_in = current_user.is_authenticated
        form = BookPlacesForm.for_rates(page.bookable_rates, page.max_places, meta={"csrf": signed_in})
    user = current_user if current_user.is_authenticated else None
    extra = pages.context_for("event", event=page.event, user=user, now=now)
    return render_template("catalogue/event.html", page=page, event=page.event, form=form, now=now, **extra)


@bp.app_template_filter("date_range")
def date_range(start: datetime | None, end: datetime | None, zone: str | None = None) -> str:
    """'9 March 2027', '9 to 11 March 2027', '30 March to 2 April 2027' or across years in full."""
    if start is None:
        return ""
    first, last = format_date(start, zone), format_date(end or start, zone)
    if first == last:
        return first
    start_day, start_month, start_year = first.split(" ")
    _, end_month, end_year = last.split(" ")
    if start_year != end_year:
        return f"{first} to {last}"
    if start_month != end_month:
        return f"{start_day} {start_month} to {last}"
    return f"{start_day} to {last}"


@bp.app_template_filter("time_range")
def time_range(start: datetime, end: datetime, zone: str | None = None) -> str:
    """'9:30am to 4:30pm'."""
    return f"{format_time(start, zone)} to {format_time(end, zone)}"
