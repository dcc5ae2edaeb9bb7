"""Event slugs: made from the title, unique, and a concurrent writer's taking one is a validation error."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bookings.catalogue.models import Event
from bookings.core.errors import ValidationError
from bookings.extensions import db

MAX_SLUG_LENGTH = 100


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "event"


def _slug_taken(slug: str, *, except_event_id: int | None = None) -> bool:
    query = select(Event.id).where(Event.slug == slug)
    if except_event_id is not None:
        query = query.where(Event.id != except_event_id)
    return db.session.scalar(query) is not None


def _unique_slug(title: str) -> str:
    base = slugify(title)
    taken = set(db.session.scalars(select(Event.slug).where(Event.slug.startswith(base, autoescape=True))))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _flush_checking_slug() -> None:
    # Two writers can pick the same free slug at once (PostgreSQL reads committed data);
    # the unique constraint decides, and the loser is told as if it had been taken before.
    try:
        db.session.flush()
    except IntegrityError as error:
        if "slug" not in str(error.orig).lower():
            raise
        raise ValidationError("The slug is already used by another event.", errors={"slug": "Already in use."})
