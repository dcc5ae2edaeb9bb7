"""Rule 4: freed places go to the waiting list first, in join order among entries that fit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.booking import services as booking_services
from bookings.catalogue import services as catalogue_services
from bookings.core.errors import SoldOut
from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistEntry, WaitlistStatus
from bookings.waitlist.sweep import expire_offers, send_due_offers
from tests.integration.waitlist.helpers import (
    audit_actions,
    book,
    cancel,
    fresh,
    join,
    outbox,
    places_left,
    taken,
)
from tests.support.factories import make_event, make_user


@pytest.fixture
def now(clock):
    return clock.now


def test_cancellation_offers_the_freed_places_to_the_first_in_line(app, now):
    event = make_event(capacity=2)
    booking = book(event, 2, now)
    first = join(event, 1, now)
    second = join(event, 1, now + timedelta(minutes=1))

    cancel(booking, now + timedelta(hours=1))

    assert fresh(first).status == WaitlistStatus.OFFERED.value
    assert fresh(second).status == WaitlistStatus.OFFERED.value
    assert taken(event, now + timedelta(hours=1)) == 2  # the offers hold the freed places
    emails = outbox("waitlist_offer")
    assert sorted(e.to_address for e in emails) == sorted([first.user.email, second.user.email])
    assert "waitlist.offered" in audit_actions(first)


def test_offer_skips_entry_that_does_not_fit_and_it_keeps_its_position(app, now):
    event = make_event(capacity=4)
    booking = book(event, 2, now)
    book(event, 2, now)
    party_of_three = join(event, 3, now)
    single = join(event, 1, now + timedelta(minutes=1))

    cancel(booking, now + timedelta(hours=1))  # two places free

    later = now + timedelta(hours=1)
    assert fresh(party_of_three).status == WaitlistStatus.WAITING.value
    assert fresh(single).status == WaitlistStatus.OFFERED.value
    assert services.position_of(fresh(party_of_three), later) == 1
    assert services.position_of(fresh(single), later) == 2
    assert places_left(event, later) == 1  # the place the party of three cannot use goes back on sale


def test_first_entry_is_offered_as_soon_as_its_party_fits(app, now):
    event = make_event(capacity=4)
    first_booking = book(event, 2, now)
    second_booking = book(event, 2, now)
    party_of_three = join(event, 3, now)
    single = join(event, 1, now + timedelta(minutes=1))

    cancel(first_booking, now + timedelta(hours=1))  # 2 free: the single is offered one
    cancel(second_booking, now + timedelta(hours=2))  # 3 more free: the party of three now fits

    assert fresh(single).status == WaitlistStatus.OFFERED.value
    assert fresh(party_of_three).status == WaitlistStatus.OFFERED.value
    assert taken(event, now + timedelta(hours=2)) == 4


def test_freed_places_go_to_the_list_before_open_sale(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    entry = join(event, 1, now)
    # Hold and release: the place freed by a cancelled hold is offered, not sold to the next caller.
    cancel(booking, now + timedelta(minutes=5))

    with pytest.raises(SoldOut):
        book(event, 1, now + timedelta(minutes=6))
    assert fresh(entry).status == WaitlistStatus.OFFERED.value


def test_expired_hold_places_are_kept_from_open_sale_and_offered_by_the_sweep(app, now):
    event = make_event(capacity=1, hold_minutes=15)
    holder = make_user()
    booking_services.hold_places(event_id=event.id, booker_id=holder.id, ticket_type_id=None, places=1, now=now)
    entry = join(event, 1, now + timedelta(minutes=1))

    after_expiry = now + timedelta(minutes=20)
    with pytest.raises(SoldOut):  # before any sweep, the sale offers the place to the list first
        book(event, 1, after_expiry)
    booking_services.expire_holds(after_expiry)

    assert fresh(entry).status == WaitlistStatus.OFFERED.value
    assert taken(event, after_expiry) == 1


def test_a_sale_that_fits_beside_the_offer_commits_both(app, now):
    event = make_event(capacity=2, hold_minutes=15)
    holder = make_user()
    booking_services.hold_places(event_id=event.id, booker_id=holder.id, ticket_type_id=None, places=2, now=now)
    entry = join(event, 1, now + timedelta(minutes=1))

    after_expiry = now + timedelta(minutes=20)
    book(event, 1, after_expiry)  # no sweep has run: the sale hands one place to the list, takes the other

    assert fresh(entry).status == WaitlistStatus.OFFERED.value
    assert places_left(event, after_expiry) == 0


def test_raised_capacity_is_offered_to_the_list(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    first = join(event, 2, now)
    second = join(event, 1, now + timedelta(minutes=1))
    admin = make_user(role="admin")

    catalogue_services.update_event(event.id, {"capacity": 3}, admin.id, now + timedelta(hours=1))

    assert fresh(first).status == WaitlistStatus.OFFERED.value
    assert fresh(second).status == WaitlistStatus.WAITING.value
    assert places_left(event, now + timedelta(hours=1)) == 0


def test_decline_passes_the_places_to_the_next_entry(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    first = join(event, 1, now)
    second = join(event, 1, now + timedelta(minutes=1))
    cancel(booking, now + timedelta(hours=1))
    assert fresh(first).status == WaitlistStatus.OFFERED.value

    services.decline_offer(entry_id=first.id, actor=fresh(first).user, now=now + timedelta(hours=2))

    assert fresh(first).status == WaitlistStatus.DECLINED.value
    assert fresh(second).status == WaitlistStatus.OFFERED.value
    assert taken(event, now + timedelta(hours=2)) == 1


def test_expired_offer_stops_counting_before_any_sweep(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    entry = join(event, 1, now)
    cancel(booking, now)
    expires_at = fresh(entry).offer_expires_at

    assert taken(event, expires_at - timedelta(seconds=1)) == 1
    assert taken(event, expires_at) == 0
    assert fresh(entry).status_at(expires_at) == WaitlistStatus.EXPIRED.value
    assert services.position_of(fresh(entry), expires_at) is None


def test_cascade_through_decline_and_expiry(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    first, second, third = (join(event, 1, now + timedelta(minutes=i)) for i in range(3))

    cancel(booking, now + timedelta(hours=1))
    assert [fresh(e).status for e in (first, second, third)] == ["offered", "waiting", "waiting"]

    services.decline_offer(entry_id=first.id, actor=fresh(first).user, now=now + timedelta(hours=2))
    assert [fresh(e).status for e in (first, second, third)] == ["declined", "offered", "waiting"]

    after_expiry = fresh(second).offer_expires_at + timedelta(minutes=1)
    assert expire_offers(after_expiry) == 1
    assert [fresh(e).status for e in (first, second, third)] == ["declined", "expired", "offered"]
    assert len(outbox("waitlist_offer_expired", to=fresh(second).user.email)) == 1
    assert "waitlist.offer_expired" in audit_actions(second)
    assert taken(event, after_expiry) == 1


def test_expired_offer_is_kept_from_open_sale_and_passed_on_by_the_sweep(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    first = join(event, 1, now)
    second = join(event, 1, now + timedelta(minutes=1))
    cancel(booking, now)

    after_expiry = fresh(first).offer_expires_at + timedelta(minutes=1)
    with pytest.raises(SoldOut):
        book(event, 1, after_expiry)
    expire_offers(after_expiry)

    assert fresh(first).status == WaitlistStatus.EXPIRED.value
    assert fresh(second).status == WaitlistStatus.OFFERED.value


def test_sweep_twice_changes_nothing_the_second_time(app, now):
    event = make_event(capacity=2)
    book(event, 2, now)
    entries = [join(event, 1, now + timedelta(minutes=i)) for i in range(3)]
    # Raising capacity through the model (no service) leaves the offers to the sweep.
    db.session.get(type(event), event.id).capacity = 4
    db.session.commit()

    assert send_due_offers(now + timedelta(hours=1)) == 2
    assert send_due_offers(now + timedelta(hours=1)) == 0
    assert expire_offers(now + timedelta(hours=1)) == 0
    assert [fresh(e).status for e in entries] == ["offered", "offered", "waiting"]
    assert len(outbox("waitlist_offer")) == 2


def test_per_rate_cap_is_respected_when_offering(app, now):
    event = make_event(
        capacity=10,
        ticket_types=[{"name": "Public sector", "price_pence": 0, "cap": 1}, {"name": "Private", "price_pence": 0}],
    )
    public, private = event.ticket_types
    first_public = book(event, 1, now, ticket_type_id=public.id)
    for _ in range(9):
        book(event, 1, now, ticket_type_id=private.id)
    wants_public = join(event, 1, now, ticket_type_id=public.id)
    wants_private = join(event, 1, now + timedelta(minutes=1), ticket_type_id=private.id)
    private_booking = db.session.scalars(
        select(type(first_public)).where(type(first_public).id != first_public.id).limit(1)
    ).one()

    cancel(private_booking, now + timedelta(hours=1))  # one private place frees: the public cap is still full

    assert fresh(wants_public).status == WaitlistStatus.WAITING.value
    assert fresh(wants_private).status == WaitlistStatus.OFFERED.value
    assert fresh(wants_private).offer_ticket_type_id == private.id


def test_entry_for_any_rate_is_offered_on_the_first_rate_that_fits(app, now):
    event = make_event(
        capacity=2,
        ticket_types=[{"name": "Early bird", "price_pence": 0, "cap": 1}, {"name": "Standard", "price_pence": 0}],
    )
    early, standard = event.ticket_types
    book(event, 1, now, ticket_type_id=early.id)
    booking = book(event, 1, now, ticket_type_id=standard.id)
    entry = join(event, 1, now)

    cancel(booking, now + timedelta(hours=1))

    assert fresh(entry).offer_ticket_type_id == standard.id


def test_leaving_with_a_live_offer_passes_the_places_on(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    first = join(event, 1, now)
    second = join(event, 1, now + timedelta(minutes=1))
    cancel(booking, now)

    services.leave_waitlist(entry_id=first.id, actor=fresh(first).user, now=now + timedelta(minutes=5))

    assert fresh(first).status == WaitlistStatus.WITHDRAWN.value
    assert fresh(second).status == WaitlistStatus.OFFERED.value


def test_no_offers_once_the_event_has_started(app, now):
    event = make_event(capacity=1, starts_at=now + timedelta(days=2))
    book(event, 1, now)
    entry = join(event, 1, now)
    db.session.get(type(event), event.id).capacity = 2
    db.session.commit()

    assert send_due_offers(now + timedelta(days=3)) == 0
    assert fresh(entry).status == WaitlistStatus.WAITING.value


def test_cancelling_the_event_ends_its_waiting_list(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now)
    admin = make_user(role="admin")

    catalogue_services.cancel_event(event.id, admin.id, now + timedelta(hours=1))

    assert fresh(entry).status == WaitlistStatus.WITHDRAWN.value
    assert len(outbox("waitlist_event_cancelled", to=fresh(entry).user.email)) == 1
    assert db.session.get(type(event), event.id).is_waitlist_open is False


def test_admin_offers_places_by_hand_out_of_turn(app, now):
    event = make_event(capacity=2)
    book(event, 1, now)
    booking = book(event, 1, now)
    first = join(event, 2, now)
    chosen = join(event, 1, now + timedelta(minutes=1))
    admin = make_user(role="admin")
    # Free a place without running the list (as if a hold had lapsed unseen), then choose by hand.
    booking.status = "cancelled"
    db.session.merge(booking)
    db.session.commit()

    services.offer_to_entry(entry_id=chosen.id, actor=admin, now=now + timedelta(hours=1))

    assert fresh(chosen).status == WaitlistStatus.OFFERED.value
    assert fresh(first).status == WaitlistStatus.WAITING.value
    with pytest.raises(SoldOut):
        services.offer_to_entry(entry_id=first.id, actor=admin, now=now + timedelta(hours=1))


def test_entries_for_event_read_expired_offers_as_expired(app, now):
    event = make_event(capacity=1)
    booking = book(event, 1, now)
    entry = join(event, 1, now)
    cancel(booking, now)
    later = fresh(entry).offer_expires_at

    views = services.entries_for_event(event.id, later)

    assert [(v.status, v.position) for v in views] == [("expired", None)]
    assert db.session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.id == entry.id)) == "offered"
