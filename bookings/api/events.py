"""GET/POST /events and GET/PATCH /events/<id>: the catalogue, and events written by admins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Response, jsonify, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.api.auth import api_user, is_admin, require_admin
from bookings.api.blueprint import bp, json_object
from bookings.api.serialise import event_json
from bookings.catalogue import services
from bookings.catalogue.inputs import KINDS, STATUSES, parse_event_input
from bookings.catalogue.models import Event, EventStatus
from bookings.catalogue.queries import count_events
from bookings.core.clock import utcnow
from bookings.core.errors import Forbidden, NotFound, ValidationError
from bookings.extensions import db
from bookings.site.page_cache import public_page
from bookings.waitlist.services import waitlist_lengths

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000
PERIODS = ("upcoming", "past", "all")
LIST_PARAMETERS = ("kind", "status", "when", "page", "per_page")


def _with_children(query: Select) -> Select:
    return query.options(selectinload(Event.sessions), selectinload(Event.ticket_types), selectinload(Event.questions))


def _events_json(events: Iterable[Event], now: datetime) -> list[dict[str, Any]]:
    events = list(events)
    places = capacity.availability_for(events, now)  # every event's places in one go
    waiting = waitlist_lengths([e.id for e in events], now)
    admin = is_admin()
    return [event_json(e, places[e.id], now, for_admin=admin, waitlist_length=waiting[e.id]) for e in events]


def _one_event_json(event_id: int, now: datetime) -> dict[str, Any]:
    event = db.session.scalar(_with_children(select(Event).where(Event.id == event_id)))
    if event is None or (event.status == EventStatus.DRAFT.value and not is_admin()):
        raise NotFound("There is no event with that id.")  # drafts do not exist for others
    return _events_json([event], now)[0]


def _positive_int(args, name: str, default: int, errors: dict[str, str], *, maximum: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 1 <= int(raw) <= maximum:
        errors[name] = f"Must be a whole number from 1 to {maximum}."
        return default
    return int(raw)


def _list_query(args, now: datetime) -> tuple[Select, int, int, dict[str, str]]:
    errors: dict[str, str] = {name: "Unknown parameter." for name in args if name not in LIST_PARAMETERS}
    query = select(Event)
    kind = args.get("kind")
    if kind is not None:
        if kind in KINDS:
            query = query.where(Event.kind == kind)
        else:
            errors["kind"] = f"Must be one of: {', '.join(KINDS)}."
    status = args.get("status", EventStatus.PUBLISHED.value)
    if status not in (*STATUSES, "all"):
        errors["status"] = f"Must be one of: {', '.join((*STATUSES, 'all'))}."
    elif status != EventStatus.PUBLISHED.value and not is_admin():
        raise Forbidden("Only an administrator can list events that are not published.")
    elif status != "all":
        query = query.where(Event.status == status)
    when = args.get("when", "upcoming")
    if when == "upcoming":
        query = query.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)
    elif when == "past":
        query = query.where(Event.ends_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    elif when == "all":
        query = query.order_by(Event.starts_at, Event.id)
    else:
        errors["when"] = f"Must be one of: {', '.join(PERIODS)}."
    page = _positive_int(args, "page", 1, errors, maximum=MAX_PAGE)
    per_page = _positive_int(args, "per_page", DEFAULT_PER_PAGE, errors, maximum=MAX_PER_PAGE)
    return query, page, per_page, errors


def _page_url(page: int, per_page: int) -> str:
    params = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}
    return url_for("api.list_events", **params, page=page, per_page=per_page, _external=True)


@bp.get("/events")
@public_page
def list_events():
    now = utcnow()
    query, page, per_page, errors = _list_query(request.args, now)
    if errors:
        raise ValidationError("Some query parameters are not valid: see errors.", errors=errors)
    total = count_events(query)
    events = db.session.scalars(_with_children(query).limit(per_page).offset((page - 1) * per_page)).all()
    has_next = page * per_page < total
    return jsonify(
        {
            "events": _events_json(events, now),
            "page": page,
            "per_page": per_page,
            "total": total,
            "next": _page_url(page + 1, per_page) if has_next else None,
            "previous": _page_url(page - 1, per_page) if page > 1 else None,
        }
    )


@bp.get("/events/<int:event_id>")
@public_page
def get_event(event_id: int):
    return jsonify(_one_event_json(event_id, utcnow()))


@bp.post("/events")
@require_admin
def create_event():
    data = parse_event_input(json_object())
    actor_id = api_user().id
    event = services.create_event(data, actor_id, utcnow())
    response: Response = jsonify(_one_event_json(event.id, utcnow()))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_event", event_id=event.id, _external=True)
    return response


@bp.patch("/events/<int:event_id>")
@require_admin
def update_event(event_id: int):
    changes = json_object()
    actor_id = api_user().id
    services.update_event(event_id, changes, actor_id, utcnow())
    return jsonify(_one_event_json(event_id, utcnow()))
