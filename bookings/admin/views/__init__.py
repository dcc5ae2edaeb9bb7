"""The console's routes, on one blueprint whose guard closes every route to all but admins."""

from __future__ import annotations

from flask import Blueprint, abort, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bookings.admin.access import refuse_non_admins
from bookings.catalogue.models import Event
from bookings.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    # Every view also carries @admin_required; this guard keeps a route added without it closed.
    return refuse_non_admins()


def event_or_404(event_id: int) -> Event:
    event = db.session.scalars(
        select(Event)
        .where(Event.id == event_id)
        .options(selectinload(Event.sessions), selectinload(Event.ticket_types), selectinload(Event.questions))
    ).one_or_none()
    if event is None:
        abort(404)
    return event


def optional_int(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


from bookings.admin.views import attendees, bookings, dashboard, discounts, events  # noqa: E402, F401  registers the routes
