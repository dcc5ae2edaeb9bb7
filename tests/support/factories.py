"""Factories: make_user, make_event(**overrides) and friends. Each commits its rows."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from bookings.accounts.models import ApiToken, Role, User
from bookings.accounts.passwords import hash_password
from bookings.catalogue.models import Event, EventSession, EventStatus, TicketType
from bookings.core.clock import utcnow
from bookings.core.tokens import hash_token, new_token
from bookings.extensions import db

_counter = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_user(
    *, email: str | None = None, role: str = Role.ATTENDEE.value, password: str = PASSWORD, **overrides
) -> User:
    n = next(_counter)
    user = User(
        email=(email or f"user{n}@council.example").lower(),
        name=overrides.pop("name", f"Test User {n}"),
        organisation=overrides.pop("organisation", "Exampleton Council"),
        sector=overrides.pop("sector", "public"),
        role=role,
        password_hash=hash_password(password),
        created_at=overrides.pop("created_at", utcnow()),
        **overrides,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_admin(**overrides) -> User:
    return make_user(role=Role.ADMIN.value, **overrides)


def make_event(
    *,
    capacity: int = 10,
    status: str = EventStatus.PUBLISHED.value,
    starts_at: datetime | None = None,
    days: int = 1,
    ticket_types: list[dict] | None = None,
    **overrides,
) -> Event:
    """An event with `days` sessions and, unless given, one free rate."""
    n = next(_counter)
    now = utcnow()
    start = starts_at or (now + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
    event = Event(
        slug=overrides.pop("slug", f"event-{n}-{uuid.uuid4().hex[:6]}"),
        title=overrides.pop("title", f"Test event {n}"),
        kind=overrides.pop("kind", "course"),
        status=status,
        capacity=capacity,
        created_at=now,
        updated_at=now,
        **overrides,
    )
    for day in range(days):
        session_start = start + timedelta(days=day)
        event.sessions.append(
            EventSession(
                title=f"Day {day + 1}" if days > 1 else "",
                starts_at=session_start,
                ends_at=session_start + timedelta(hours=7),
                uid=f"{uuid.uuid4()}@bookings.test",
            )
        )
    event.starts_at = event.sessions[0].starts_at
    event.ends_at = event.sessions[-1].ends_at
    for position, spec in enumerate(ticket_types or [{"name": "Standard", "price_pence": 0}]):
        event.ticket_types.append(TicketType(position=position, **spec))
    db.session.add(event)
    db.session.commit()
    return event


def make_api_token(user: User, name: str = "test") -> str:
    token = new_token()
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), created_at=utcnow()))
    db.session.commit()
    return token


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
