"""Reads: positions in line, entry views for pages and the API, and finding an entry its owner may see (rule 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from bookings.accounts.models import User
from bookings.core.errors import NotFound
from bookings.core.tokens import hash_token
from bookings.extensions import db
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus

# --- positions and reads -------------------------------------------------------------------------------------------


def _in_line(now: datetime):
    """Entries standing in line at `now`: waiting, or holding a live offer."""
    return or_(
        WaitlistEntry.status == WaitlistStatus.WAITING.value,
        and_(WaitlistEntry.status == WaitlistStatus.OFFERED.value, WaitlistEntry.offer_expires_at > now),
    )


def position_of(entry: WaitlistEntry, now: datetime) -> int | None:
    """1-based place in line among entries still waiting or offered, in join order; None once out of line."""
    if not entry.is_in_line(now):
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.event_id == entry.event_id,
            _in_line(now),
            or_(
                WaitlistEntry.joined_at < entry.joined_at,
                and_(WaitlistEntry.joined_at == entry.joined_at, WaitlistEntry.id < entry.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def positions_for_event(event_id: int, now: datetime) -> dict[int, int]:
    """Entry id -> position for every entry of the event still in line (one query)."""
    ids = db.session.scalars(
        select(WaitlistEntry.id)
        .where(WaitlistEntry.event_id == event_id, _in_line(now))
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    return {entry_id: index for index, entry_id in enumerate(ids, start=1)}


def waitlist_lengths(event_ids: list[int], now: datetime) -> dict[int, int]:
    """Event id -> number of entries in line, for listings and the API (one query)."""
    lengths = {event_id: 0 for event_id in event_ids}
    if not event_ids:
        return lengths
    for event_id, count in db.session.execute(
        select(WaitlistEntry.event_id, func.count())
        .where(WaitlistEntry.event_id.in_(event_ids), _in_line(now))
        .group_by(WaitlistEntry.event_id)
    ):
        lengths[event_id] = int(count)
    return lengths


def current_entry(event_id: int, user_id: int, now: datetime) -> WaitlistEntry | None:
    """The user's entry on this event that still stands in line, if any."""
    return db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event_id, WaitlistEntry.user_id == user_id, _in_line(now))
        .order_by(WaitlistEntry.id.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class EntryView:
    """An entry with what readers need computed beforehand (templates and the API do no queries)."""

    entry: WaitlistEntry
    status: str
    position: int | None

    @property
    def offer_expires_at(self) -> datetime | None:
        return self.entry.offer_expires_at if self.status == WaitlistStatus.OFFERED.value else None


def entries_for_user(user_id: int, now: datetime) -> list[EntryView]:
    """The user's entries, newest first, with their read-time status and position."""
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user_id)
        .options(selectinload(WaitlistEntry.event), selectinload(WaitlistEntry.offer_ticket_type))
        .order_by(WaitlistEntry.joined_at.desc(), WaitlistEntry.id.desc())
    ).all()
    return [EntryView(e, e.status_at(now), position_of(e, now)) for e in entries]


def entry_view(entry: WaitlistEntry, now: datetime) -> EntryView:
    return EntryView(entry, entry.status_at(now), position_of(entry, now))


def entries_for_event(event_id: int, now: datetime) -> list[EntryView]:
    """Every entry of an event in join order, with read-time status and position (for admins)."""
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event_id)
        .options(
            selectinload(WaitlistEntry.user),
            selectinload(WaitlistEntry.ticket_type),
            selectinload(WaitlistEntry.offer_ticket_type),
        )
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    positions = positions_for_event(event_id, now)
    return [EntryView(e, e.status_at(now), positions.get(e.id)) for e in entries]


def get_entry_for(entry_id: int, user: User | None) -> WaitlistEntry:
    """The entry, if `user` is its owner or an admin; NotFound otherwise (rule 6)."""
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or user is None or not (user.is_admin or entry.user_id == user.id):
        raise NotFound("There is no such waiting list entry.")
    return entry


def find_offer(token: str, user: User | None) -> WaitlistEntry:
    """The entry a claim link points at, if it is the user's (rule 6). Raises NotFound."""
    entry = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.offer_token_hash == hash_token(token or ""))
        .options(selectinload(WaitlistEntry.event), selectinload(WaitlistEntry.offer_ticket_type))
    ).one_or_none()
    if entry is None or user is None or entry.user_id != user.id:
        raise NotFound("This link is not valid. Check you are signed in with the account that joined the list.")
    return entry
