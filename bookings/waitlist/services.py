"""The waiting list (DESIGN.md rules 1, 2, 4 and 7): joining, fair offers, claiming, leaving.

Rule 4, owned here: freed places go to the waiting list before open sale.
`offer_freed_places` is registered with the capacity module and runs inside
the transaction that holds the event lock whenever places may have been freed
(before every open sale, after a cancellation or an expired hold, when
capacity is raised, and from the sweep). It walks the entries in join order
and offers places to each one whose requested places fit in what is free now;
an entry that does not fit keeps its position and a later, smaller one may be
offered. An offer reserves its places (they count against capacity through
the waiting list's place source) until `offer_expires_at`; after that they
stop counting at once (rule 2), and the next run of the handler marks the
offer expired and passes the places on.

Every change writes an audit row and its email in the same transaction (rule 7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from bookings import capacity
from bookings.accounts.models import User
from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, PaymentMethod
from bookings.booking.rules import BookingClosed, check_event_bookable, check_places_requested
from bookings.booking.services import BillingDetails, create_hold, load_event
from bookings.booking.services.confirming import check_payment_method
from bookings.catalogue.models import Event, TicketType
from bookings.core import audit
from bookings.core.db import transactional
from bookings.core.errors import Conflict, Forbidden, NotFound, SoldOut, ValidationError
from bookings.core.tokens import hash_token, new_token
from bookings.core.urls import absolute_url
from bookings.extensions import db
from bookings.notifications.outbox import queue_email
from bookings.waitlist.models import IN_LINE, WaitlistEntry, WaitlistStatus

# Offers are shortened as the event nears: never more than this share of the time left before it
# starts, and never less than MIN_OFFER (unless booking closes sooner).
OFFER_SHARE_OF_TIME_LEFT = 4
MIN_OFFER = timedelta(hours=1)


class OfferExpired(Conflict):
    code = "offer_expired"


class OfferUsed(Conflict):
    code = "offer_used"


class WaitlistClosed(Conflict):
    code = "waitlist_closed"


class AlreadyOnWaitlist(Conflict):
    code = "already_on_waitlist"


class PlacesAvailable(Conflict):
    code = "places_available"


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


# --- offers ---------------------------------------------------------------------------------------------------------


def offer_expiry_for(event: Event, now: datetime) -> datetime:
    """When an offer made now ends: the event's (or site's) offer time, shortened as the event nears.

    At most a quarter of the time left before the event starts (but at least an
    hour), and never past booking close or the start of the event.
    """
    hours = event.offer_expiry_hours or current_app.config["OFFER_EXPIRY_HOURS"]
    length = timedelta(hours=hours)
    if event.starts_at is not None:
        length = min(length, max((event.starts_at - now) / OFFER_SHARE_OF_TIME_LEFT, MIN_OFFER))
    expires_at = now + length
    for deadline in (event.booking_closes_at, event.starts_at):
        if deadline is not None:
            expires_at = min(expires_at, deadline)
    return expires_at


def _can_offer(event: Event, now: datetime) -> bool:
    try:
        check_event_bookable(event, now)
    except BookingClosed:
        return False
    return True


def _rate_for(entry: WaitlistEntry, rates: list[TicketType], left: capacity.Availability, now: datetime):
    """The rate the entry's places fit on now, or None (the entry keeps its position)."""
    for rate in rates:
        if entry.ticket_type_id is not None and rate.id != entry.ticket_type_id:
            continue
        if rate.is_on_sale(now) and left.places_left_for(rate.id) >= entry.places:
            return rate
    return None


def _after_offer(left: capacity.Availability, rate_id: int, places: int) -> capacity.Availability:
    by_type = dict(left.taken_by_type)
    by_type[rate_id] = by_type.get(rate_id, 0) + places
    return capacity.Availability(
        capacity=left.capacity, taken=left.taken + places, taken_by_type=by_type, caps=left.caps
    )


def _make_offer(entry: WaitlistEntry, event: Event, rate: TicketType, actor_id: int | None, now: datetime) -> None:
    token = new_token()
    entry.status = WaitlistStatus.OFFERED.value
    entry.offer_ticket_type_id = rate.id
    entry.offer_token_hash = hash_token(token)
    entry.offered_at = now
    entry.offer_expires_at = offer_expiry_for(event, now)
    audit.record(
        "waitlist.offered",
        "waitlist_entry",
        entry.id,
        actor_id=actor_id,
        event_id=event.id,
        at=now,
        places=entry.places,
        ticket_type_id=rate.id,
        offer_expires_at=entry.offer_expires_at.isoformat(),
    )
    queue_email(
        "waitlist_offer",
        to=entry.user.email,
        subject=f"Places are free: {event.title}",
        now=now,
        event_id=event.id,
        event=event,
        entry=entry,
        rate=rate,
        claim_url=absolute_url("waitlist.claim", token=token),
    )


def _expire_lapsed_offers(event: Event, now: datetime) -> int:
    lapsed = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.event_id == event.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED.value,
            WaitlistEntry.offer_expires_at <= now,
        )
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.id)
    ).all()
    for entry in lapsed:
        entry.status = WaitlistStatus.EXPIRED.value
        entry.expired_at = now
        audit.record("waitlist.offer_expired", "waitlist_entry", entry.id, actor_id=None, event_id=event.id, at=now)
        queue_email(
            "waitlist_offer_expired",
            to=entry.user.email,
            subject=f"Your offer of places has ended: {event.title}",
            now=now,
            event_id=event.id,
            event=event,
            entry=entry,
        )
    return len(lapsed)


def run_offers(event_id: int, now: datetime) -> tuple[int, int]:
    """Expire lapsed offers, then offer free places in join order. The caller holds the event lock.

    Returns (offers expired, offers made).
    """
    has_entries = db.session.scalar(
        select(WaitlistEntry.id).where(WaitlistEntry.event_id == event_id, WaitlistEntry.status.in_(IN_LINE)).limit(1)
    )
    if has_entries is None:
        return 0, 0  # the common case before every open sale: one cheap query
    event = db.session.scalars(
        select(Event).where(Event.id == event_id).options(selectinload(Event.ticket_types))
    ).one()
    expired = _expire_lapsed_offers(event, now)
    if not _can_offer(event, now):
        return expired, 0
    left = capacity.availability(event, now)
    if left.places_left == 0:
        return expired, 0
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event_id, WaitlistEntry.status == WaitlistStatus.WAITING.value)
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    offered = 0
    for entry in waiting:
        if left.places_left == 0:
            break
        rate = _rate_for(entry, list(event.ticket_types), left, now)
        if rate is None:
            continue  # does not fit: keeps its position; a later, smaller entry may be offered
        _make_offer(entry, event, rate, None, now)
        left = _after_offer(left, rate.id, entry.places)
        offered += 1
    return expired, offered


def offer_freed_places(event_id: int, now: datetime) -> None:
    """The capacity module's freed-places handler (runs in the locked write transaction)."""
    run_offers(event_id, now)


def _locked_entry(entry_id: int) -> WaitlistEntry:
    event_id = db.session.scalar(select(WaitlistEntry.event_id).where(WaitlistEntry.id == entry_id))
    if event_id is None:
        raise NotFound("There is no such waiting list entry.")
    capacity.lock_event(event_id)
    entry = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.id == entry_id).execution_options(populate_existing=True)
    ).one()
    return entry


# --- joining and leaving --------------------------------------------------------------------------------------------


def _fits_now(event: Event, ticket_type_id: int | None, places: int, left: capacity.Availability, now: datetime):
    rates = [t for t in event.ticket_types if t.is_on_sale(now)]
    if ticket_type_id is not None:
        rates = [t for t in rates if t.id == ticket_type_id]
    return any(left.places_left_for(t.id) >= places for t in rates)


@transactional
def join_waitlist(
    *,
    event_id: int,
    user: User,
    places: int,
    now: datetime,
    ticket_type_id: int | None = None,
    has_email_consent: bool = True,
) -> WaitlistEntry:
    """Put the user in line for `places` on a full event (or one with too few places left).

    Raises BookingClosed, WaitlistClosed, ValidationError, AlreadyOnWaitlist,
    PlacesAvailable (book instead).
    """
    capacity.lock_event(event_id)
    event = load_event(event_id)
    check_event_bookable(event, now)
    if not event.is_waitlist_open:
        raise WaitlistClosed("The waiting list for this event is closed.")
    check_places_requested(event, places)
    if ticket_type_id is not None and ticket_type_id not in {t.id for t in event.ticket_types}:
        raise ValidationError("Choose a rate for this event.", field="ticket_type_id")
    if not has_email_consent:
        raise ValidationError(
            "Agree to be emailed, so that we can tell you when places are offered.", field="has_email_consent"
        )
    if current_entry(event.id, user.id, now) is not None:
        raise AlreadyOnWaitlist("You are already on the waiting list for this event.")
    # Places freed since the last look go to people already in line before we judge what is left.
    run_offers(event.id, now)
    left = capacity.availability(event, now)
    if _fits_now(event, ticket_type_id, places, left, now):
        raise PlacesAvailable("There are enough places left: book them instead.", places_left=left.places_left)
    entry = WaitlistEntry(
        event_id=event.id,
        user_id=user.id,
        ticket_type_id=ticket_type_id,
        places=places,
        status=WaitlistStatus.WAITING.value,
        joined_at=now,
        has_email_consent=has_email_consent,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "waitlist.joined",
        "waitlist_entry",
        entry.id,
        actor_id=user.id,
        event_id=event.id,
        at=now,
        places=places,
        ticket_type_id=ticket_type_id,
    )
    queue_email(
        "waitlist_joined",
        to=user.email,
        subject=f"You are on the waiting list: {event.title}",
        now=now,
        event_id=event.id,
        event=event,
        entry=entry,
        position=position_of(entry, now),
    )
    return entry


def _end_entry(entry: WaitlistEntry, status: WaitlistStatus, actor_id: int | None, now: datetime) -> bool:
    """Take an entry out of line; True when it held a live offer (its places are free again)."""
    had_offer = entry.is_offer_live(now)
    entry.status = status.value
    if status is WaitlistStatus.DECLINED:
        entry.declined_at = now
    else:
        entry.withdrawn_at = now
    audit.record(
        f"waitlist.{status.value}", "waitlist_entry", entry.id, actor_id=actor_id, event_id=entry.event_id, at=now
    )
    return had_offer


@transactional
def leave_waitlist(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """Leave the list (giving up any offer). Leaving twice changes nothing. Raises NotFound, Conflict."""
    entry = _locked_entry(entry_id)
    get_entry_for(entry_id, actor)
    if entry.status == WaitlistStatus.WITHDRAWN.value:
        return entry
    if not entry.is_in_line(now):
        raise Conflict("This entry is no longer on the waiting list.", code="not_on_waitlist")
    if _end_entry(entry, WaitlistStatus.WITHDRAWN, actor.id, now):
        run_offers(entry.event_id, now)
    return entry


@transactional
def decline_offer(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """Turn down an offer: its places pass to the next entry at once. Raises NotFound, OfferExpired."""
    entry = _locked_entry(entry_id)
    get_entry_for(entry_id, actor)
    if entry.status == WaitlistStatus.DECLINED.value:
        return entry
    if not entry.is_offer_live(now):
        raise OfferExpired("This offer has ended.")
    _end_entry(entry, WaitlistStatus.DECLINED, actor.id, now)
    run_offers(entry.event_id, now)
    return entry


# --- claiming -------------------------------------------------------------------------------------------------------


@transactional
def claim_offer(*, entry_id: int, actor: User, now: datetime, card: bool = False) -> Booking:
    """Turn a live offer into a held booking for the same places; the journey continues from there.

    The hold lasts until the offer would have ended, or the normal hold time if
    that is longer. Raises NotFound, OfferUsed (claimed already), OfferExpired.
    """
    entry = _locked_entry(entry_id)
    if entry.user_id != actor.id:
        raise NotFound("There is no such waiting list entry.")
    if entry.status == WaitlistStatus.CLAIMED.value:
        raise OfferUsed("This offer has already been used.", booking_id=entry.claimed_booking_id)
    if not entry.is_offer_live(now):
        raise OfferExpired("This offer has ended, so the places have passed to the next person in line.")
    event = load_event(entry.event_id)
    check_event_bookable(event, now)
    rate = next((t for t in event.ticket_types if t.id == entry.offer_ticket_type_id), None)
    if rate is None:
        raise OfferExpired("The rate these places were offered on no longer exists.")
    offer_expires_at = entry.offer_expires_at
    assert offer_expires_at is not None
    entry.status = WaitlistStatus.CLAIMED.value  # its offered places stop counting...
    entry.claimed_at = now
    db.session.flush()
    # ...and are taken again by the hold; no handler runs, so no one else can be given them.
    capacity.take_places(event.id, {rate.id: entry.places}, now, offer_freed_first=False)
    booking = create_hold(event, rate, entry.places, actor.id, now, card=card)
    if booking.hold_expires_at is not None and booking.hold_expires_at < offer_expires_at:
        booking.hold_expires_at = offer_expires_at
    entry.claimed_booking_id = booking.id
    audit.record(
        "waitlist.claimed",
        "waitlist_entry",
        entry.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        booking_reference=booking.reference,
    )
    audit.record(
        "booking.held",
        "booking",
        booking.reference,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
        places=entry.places,
        ticket_type_id=rate.id,
        hold_expires_at=booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        via="waitlist",
    )
    return booking


@transactional
def claim_offer_and_book(
    *,
    entry_id: int,
    actor: User,
    now: datetime,
    people: list[AttendeeInput],
    method: PaymentMethod,
    billing: BillingDetails | None = None,
) -> Booking:
    """The API's one step: claim the offer, record the attendees and, for free or invoice, confirm.

    With no attendees the places are only held (details and payment follow as
    for any held booking); card bookings stay held for checkout. All or
    nothing: on any error the offer stands untouched. Raises what
    `claim_offer` raises, and ValidationError.
    """
    booking = claim_offer(entry_id=entry_id, actor=actor, now=now, card=method is PaymentMethod.CARD)
    if not people:
        return booking
    booking_services.apply_attendee_details(booking, people)
    booking_services.set_billing(booking, billing)
    if method is PaymentMethod.CARD:
        if booking.total_pence == 0:
            raise ValidationError("These places are free: no payment is needed.", field="payment")
        return booking  # stays held for checkout
    check_payment_method(booking, method)
    booking_services.mark_confirmed(booking, method=method, actor_id=actor.id, now=now)
    return booking


# --- admin ----------------------------------------------------------------------------------------------------------


def _check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden("Only an administrator can do this.")


@transactional
def offer_to_entry(*, entry_id: int, actor: User, now: datetime) -> WaitlistEntry:
    """An admin offers places to a chosen waiting entry, out of turn. Raises SoldOut, Conflict, BookingClosed."""
    _check_admin(actor)
    entry = _locked_entry(entry_id)
    if entry.status != WaitlistStatus.WAITING.value:
        raise Conflict("Only an entry that is waiting can be offered places.", code="not_waiting")
    event = load_event(entry.event_id)
    _expire_lapsed_offers(event, now)
    check_event_bookable(event, now)
    left = capacity.availability(event, now)
    rate = _rate_for(entry, list(event.ticket_types), left, now)
    if rate is None:
        raise SoldOut(
            f"There are not enough free places for this entry's {entry.places}.", places_left=left.places_left
        )
    _make_offer(entry, event, rate, actor.id, now)
    return entry


@transactional
def set_waitlist_open(*, event_id: int, is_open: bool, actor: User, now: datetime) -> Event:
    """Close the list to new people (those in line keep their places in it), or reopen it."""
    _check_admin(actor)
    event = capacity.lock_event(event_id)
    if event.is_waitlist_open == is_open:
        return event
    event.is_waitlist_open = is_open
    event.updated_at = now
    audit.record(
        "event.waitlist_opened" if is_open else "event.waitlist_closed",
        "event",
        event.id,
        actor_id=actor.id,
        event_id=event.id,
        at=now,
    )
    return event


@transactional
def send_offers_now(*, event_id: int, actor: User, now: datetime) -> int:
    """Offer any free places to the list at once (an admin's button; the sweep does the same)."""
    _check_admin(actor)
    capacity.lock_event(event_id)
    return run_offers(event_id, now)[1]


def end_waitlist_for_cancelled_event(event: Event, actor_id: int | None, now: datetime) -> None:
    """Catalogue cancellation hook: everyone in line is taken off and told (same transaction)."""
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.event_id == event.id, WaitlistEntry.status.in_(IN_LINE))
        .options(selectinload(WaitlistEntry.user))
    ).all()
    for entry in entries:
        _end_entry(entry, WaitlistStatus.WITHDRAWN, actor_id, now)
        queue_email(
            "waitlist_event_cancelled",
            to=entry.user.email,
            subject=f"Cancelled: {event.title}",
            now=now,
            event_id=event.id,
            event=event,
            entry=entry,
        )
