"""Events as the API shows them. Times are ISO 8601 with the offset, in the event's timezone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for

from bookings.capacity import Availability
from bookings.catalogue.models import Event, EventSession, Question, TicketType


def local_iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def event_page_url(slug: str) -> str:
    """The public event page (the catalogue's `/events/<slug>`)."""
    if "catalogue.event" in current_app.view_functions:
        return url_for("catalogue.event", slug=slug, _external=True)
    return f"{request.url_root}events/{slug}"


def session_json(session: EventSession, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": session.id,
        "uid": session.uid,
        "title": session.title,
        "starts_at": local_iso(session.starts_at, zone),
        "ends_at": local_iso(session.ends_at, zone),
        "is_cancelled": session.is_cancelled,
        "sequence": session.sequence,
    }


def ticket_type_json(ticket_type: TicketType, zone: ZoneInfo, places: Availability, now: datetime) -> dict[str, Any]:
    return {
        "id": ticket_type.id,
        "name": ticket_type.name,
        "description": ticket_type.description,
        "price_pence": ticket_type.price_pence,
        "currency": ticket_type.currency,
        "vat_rate_bp": ticket_type.vat_rate_bp,
        "cap": ticket_type.cap,
        "sale_starts_at": local_iso(ticket_type.sale_starts_at, zone),
        "sale_ends_at": local_iso(ticket_type.sale_ends_at, zone),
        "is_on_sale": ticket_type.is_on_sale(now),
        "places_left": places.places_left_for(ticket_type.id),
    }


def question_json(question: Question) -> dict[str, Any]:
    """A question asked of each attendee: answer it in the booking's `answers`, keyed by its id (as a string)."""
    return {
        "id": question.id,
        "label": question.label,
        "kind": question.kind,
        "choices": list(question.choices or []),
        "is_required": question.is_required,
    }


def event_json(
    event: Event, places: Availability, now: datetime, *, for_admin: bool, waitlist_length: int = 0
) -> dict[str, Any]:
    """One event; `for_admin` adds the joining link and bookkeeping fields."""
    zone = event.zone
    body: dict[str, Any] = {
        "id": event.id,
        "slug": event.slug,
        "url": event_page_url(event.slug),
        "title": event.title,
        "kind": event.kind,
        "status": event.status,
        "summary": event.summary,
        "description": event.description,
        "timezone": event.timezone,
        "starts_at": local_iso(event.starts_at, zone),
        "ends_at": local_iso(event.ends_at, zone),
        "is_online": event.is_online,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "capacity": event.capacity,
        "places_left": places.places_left,
        "booking_opens_at": local_iso(event.booking_opens_at, zone),
        "booking_closes_at": local_iso(event.booking_closes_at, zone),
        "max_places_per_booking": event.max_places_per_booking,
        "cancellation_cutoff_hours": event.cancellation_cutoff_hours,
        "substitution_cutoff_hours": event.substitution_cutoff_hours,
        "hold_minutes": event.hold_minutes,
        "offer_expiry_hours": event.offer_expiry_hours,
        "allow_invoice": event.allow_invoice,
        "prices_include_vat": event.prices_include_vat,
        "is_waitlist_open": event.is_waitlist_open,
        "waitlist_length": waitlist_length,
        "sequence": event.sequence,
        "sessions": [session_json(s, zone) for s in event.sessions],
        "ticket_types": [ticket_type_json(t, zone, places, now) for t in event.ticket_types],
        "questions": [question_json(q) for q in event.questions],
    }
    if for_admin:
        # The joining link is for people with a place; only admins see it here.
        body["online_url"] = event.online_url
        body["created_at"] = local_iso(event.created_at, zone)
        body["updated_at"] = local_iso(event.updated_at, zone)
    return body
