"""Calendar files and feeds, feed address management, and the add-to-calendar links helper."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.http import http_date, is_resource_modified

from bookings.calendar import services  # imports bookings.calendar.models: CalendarFeedToken is in the metadata
from bookings.calendar.services import CONTENT_TYPE, CalendarFile
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError
from bookings.site import page_cache
from bookings.site.page_cache import public_page

bp = Blueprint("calendar", __name__)

PUBLIC_CACHE = "public, no-cache"  # anyone may cache; everyone revalidates (a 304 is cheap)
PRIVATE_CACHE = "private, no-cache"


def _is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.is_admin)


def _serve(file: CalendarFile, *, cache_control: str, attachment: bool = True) -> Response:
    """The file, or 304 when the client's ETag or date still matches (decided before the file is built)."""
    headers = {
        "ETag": f'"{file.etag}"',
        "Last-Modified": http_date(file.last_modified),
        "Cache-Control": cache_control,
    }
    if not is_resource_modified(request.environ, etag=file.etag, last_modified=file.last_modified):
        return Response(status=304, headers=headers)
    disposition = "attachment" if attachment else "inline"
    headers["Content-Disposition"] = f'{disposition}; filename="{file.filename}"'
    return Response(file.content, status=200, headers=headers, content_type=CONTENT_TYPE)


@bp.get("/events.ics")
@public_page
def catalogue_feed():
    try:
        file = services.catalogue_calendar(request.args.get("kind"), utcnow())
    except DomainError as error:
        return Response(error.message + "\n", status=400, content_type="text/plain; charset=utf-8")
    return _serve(file, cache_control=PUBLIC_CACHE, attachment=False)


@bp.get("/events/<slug>.ics")
@public_page
def event_file(slug: str):
    file = services.event_calendar(slug, viewer_is_admin=_is_admin())
    return _serve(file, cache_control=PRIVATE_CACHE if _is_admin() else PUBLIC_CACHE)


@bp.get("/bookings/<reference>.ics")
def booking_file(reference: str):
    viewer_id = current_user.id if current_user.is_authenticated else None
    file = services.booking_calendar(reference, viewer_id=viewer_id, viewer_is_admin=_is_admin())
    return _serve(file, cache_control=PRIVATE_CACHE)


# Personal feeds validated lately in this process: user id -> ((generation, hour), ETag). Calendar apps
# poll with the ETag they hold; while nothing shown on public pages has changed (the public page
# cache's counter, bookings/site/page_cache.py) and within the same hour (entries of past events drop
# off by the day), the answer is the same 304 without loading the bookings again.
_validated_feeds: OrderedDict[int, tuple[tuple[int, str], str]] = OrderedDict()
_VALIDATED_FEEDS_MAX = 10_000
_validated_lock = threading.Lock()


@bp.get("/calendar/<token>.ics")
def personal_feed(token: str):
    now = utcnow()
    user_id = services.use_feed_token(token, now)
    headers = {"Cache-Control": PRIVATE_CACHE, "X-Robots-Tag": "noindex"}
    generation = page_cache.current_generation(current_app)  # None when the page cache is off
    key = (generation, now.strftime("%Y-%m-%dT%H")) if generation is not None else None
    remembered = _validated_feeds.get(user_id)
    if key is not None and remembered is not None and remembered[0] == key and remembered[1] in request.if_none_match:
        return Response(status=304, headers={**headers, "ETag": f'"{remembered[1]}"'})
    file = services.personal_calendar(user_id, now)
    if key is not None:
        with _validated_lock:
            _validated_feeds[user_id] = (key, file.etag)
            _validated_feeds.move_to_end(user_id)
            while len(_validated_feeds) > _VALIDATED_FEEDS_MAX:
                _validated_feeds.popitem(last=False)
    response = _serve(file, cache_control=PRIVATE_CACHE, attachment=False)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _account_url(anchor: str | None = None) -> str:
    if "accounts.account" not in current_app.view_functions:
        return "/"
    return url_for("accounts.account", _anchor=anchor)


def _back_to_account():
    return redirect(_account_url())


def _confirm_feed_change(template: str):
    """Are you sure? (WCAG 3.3.4) before a change that breaks every calendar subscribed to the address."""
    if services.find_feed_token(current_user.id) is None:
        return _back_to_account()  # no address to replace or turn off; the account page offers to create one
    return render_template(template, cancel_url=_account_url(anchor="calendar-feed-heading"))


@bp.get("/account/calendar-feed")
@login_required
def confirm_regenerate_feed():
    """Its form posts to `regenerate_feed`."""
    return _confirm_feed_change("calendar/new_address.html")


@bp.get("/account/calendar-feed/revoke")
@login_required
def confirm_revoke_feed():
    """Its form posts to `revoke_feed`."""
    return _confirm_feed_change("calendar/turn_off.html")


@bp.post("/account/calendar-feed")
@login_required
def regenerate_feed():
    services.regenerate_feed_token(current_user.id, utcnow())
    flash("Your calendar feed has a new address. The old address no longer works.", "success")
    return _back_to_account()


@bp.post("/account/calendar-feed/revoke")
@login_required
def revoke_feed():
    if services.revoke_feed_token(current_user.id, utcnow()):
        flash("Your calendar feed address has been turned off. Calendars subscribed to it stop updating.", "success")
    return _back_to_account()


@bp.app_template_global("calendar_links")
def calendar_links(event, booking=None):
    """For `templates/calendar/_links.html`: Google and Outlook links per session of an already loaded event."""
    return services.add_to_calendar_links(event, booking)
