"""Joining the list, positions, claiming an offer (single use, not after expiry) and the offer's length."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Booking, BookingStatus, PaymentMethod
from bookings.booking.rules import BookingClosed
from bookings.core.errors import NotFound, ValidationError
from bookings.extensions import db
from bookings.waitlist import services
from bookings.waitlist.models import WaitlistStatus
from tests.integration.waitlist.helpers import (
    audit_actions,
    book,
    cancel,
    claim_token,
    fresh,
    join,
    outbox,
    taken,
)
from tests.support.factories import make_event, make_user


@pytest.fixture
def now(clock):
    return clock.now


def _offered(event, now, places=1, user=None):
    """An entry with a live offer: fill the event, join, free the places."""
    booking = book(event, places, now)
    entry = join(event, places, now, user=user)
    cancel(booking, now)
    entry = fresh(entry)
    assert entry.status == WaitlistStatus.OFFERED.value
    return entry


def test_joining_a_full_event_gives_a_position_and_an_email(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    first = join(event, 1, now)
    user = make_user()
    second = join(event, 2, now + timedelta(minutes=1), user=user)

    assert services.position_of(fresh(first), now) == 1
    assert services.position_of(fresh(second), now) == 2
    email = outbox("waitlist_joined", to=user.email)[0]
    assert "2nd in line" in email.text_body
    assert audit_actions(second) == ["waitlist.joined"]


def test_joining_is_refused_while_the_places_still_fit(app, now):
    event = make_event(capacity=3)
    book(event, 1, now)

    with pytest.raises(services.PlacesAvailable):
        join(event, 2, now)


def test_joining_is_allowed_when_fewer_places_are_left_than_asked_for(app, now):
    event = make_event(capacity=3)
    book(event, 2, now)

    entry = join(event, 2, now)

    assert fresh(entry).status == WaitlistStatus.WAITING.value


def test_joining_twice_is_refused(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    user = make_user()
    join(event, 1, now, user=user)

    with pytest.raises(services.AlreadyOnWaitlist):
        join(event, 1, now, user=user)


def test_joining_a_closed_list_is_refused(app, now):
    event = make_event(capacity=1, is_waitlist_open=False)
    book(event, 1, now)

    with pytest.raises(services.WaitlistClosed):
        join(event, 1, now)


def test_joining_without_consent_to_emails_is_refused(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)

    with pytest.raises(ValidationError):
        join(event, 1, now, has_email_consent=False)


def test_joining_after_booking_closed_is_refused(app, now):
    event = make_event(capacity=1, booking_closes_at=now + timedelta(hours=1))
    book(event, 1, now)

    with pytest.raises(BookingClosed):
        join(event, 1, now + timedelta(hours=2))


def test_leaving_moves_the_people_behind_up(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    first = join(event, 1, now)
    second = join(event, 1, now + timedelta(minutes=1))

    services.leave_waitlist(entry_id=first.id, actor=fresh(first).user, now=now)

    assert services.position_of(fresh(second), now) == 1
    assert services.position_of(fresh(first), now) is None


def test_someone_else_cannot_leave_your_entry(app, now):
    event = make_event(capacity=1)
    book(event, 1, now)
    entry = join(event, 1, now)

    with pytest.raises(NotFound):
        services.leave_waitlist(entry_id=entry.id, actor=make_user(), now=now)


def test_claim_holds_the_offered_places_until_the_offer_would_have_ended(app, now):
    event = make_event(capacity=2, hold_minutes=30)
    entry = _offered(event, now, places=2)

    booking = services.claim_offer(entry_id=entry.id, actor=entry.user, now=now + timedelta(minutes=5))

    entry = fresh(entry)
    booking = db.session.get(Booking, booking.id)
    assert entry.status == WaitlistStatus.CLAIMED.value
    assert entry.claimed_booking_id == booking.id
    assert booking.status == BookingStatus.HELD.value
    assert len(booking.active_attendees) == 2
    assert booking.hold_expires_at == entry.offer_expires_at
    assert taken(event, now + timedelta(minutes=5)) == 2  # the hold replaced the offer: counted once


def test_claim_then_book_through_the_normal_journey(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)

    booking = services.claim_offer_and_book(
        entry_id=entry.id,
        actor=entry.user,
        now=now,
        people=[AttendeeInput(name="Ada Lovelace", email="ada@council.example")],
        method=PaymentMethod.FREE,
    )

    booking = db.session.get(Booking, booking.id)
    assert booking.status == BookingStatus.CONFIRMED.value
    assert booking.active_attendees[0].name == "Ada Lovelace"


def test_claim_with_bad_details_leaves_the_offer_standing(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)

    with pytest.raises(ValidationError):
        services.claim_offer_and_book(
            entry_id=entry.id,
            actor=entry.user,
            now=now,
            people=[AttendeeInput(name="", email="not an email")],
            method=PaymentMethod.FREE,
        )

    assert fresh(entry).status == WaitlistStatus.OFFERED.value
    assert taken(event, now) == 1


def test_an_offer_can_be_claimed_only_once(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)
    services.claim_offer(entry_id=entry.id, actor=entry.user, now=now)

    with pytest.raises(services.OfferUsed):
        services.claim_offer(entry_id=entry.id, actor=fresh(entry).user, now=now)
    assert taken(event, now) == 1


def test_claim_after_the_offer_ended_is_refused_before_any_sweep(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)

    with pytest.raises(services.OfferExpired) as error:
        services.claim_offer(entry_id=entry.id, actor=entry.user, now=entry.offer_expires_at)
    assert error.value.code == "offer_expired"
    assert error.value.status == 409


def test_someone_else_cannot_claim_your_offer(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)

    with pytest.raises(NotFound):
        services.claim_offer(entry_id=entry.id, actor=make_user(), now=now)


def test_the_claim_link_from_the_email_finds_the_offer_for_its_owner_only(app, now):
    event = make_event(capacity=1)
    entry = _offered(event, now)
    token = claim_token(outbox("waitlist_offer", to=entry.user.email)[0])

    assert services.find_offer(token, entry.user).id == entry.id
    with pytest.raises(NotFound):
        services.find_offer(token, make_user())
    with pytest.raises(NotFound):
        services.find_offer("not-a-token", entry.user)


def test_offer_lasts_the_configured_time_far_from_the_event(app, now):
    event = make_event(capacity=1, starts_at=now + timedelta(days=60))
    entry = _offered(event, now)

    assert entry.offer_expires_at == now + timedelta(hours=48)


def test_offer_uses_the_event_own_offer_time(app, now):
    event = make_event(capacity=1, starts_at=now + timedelta(days=60), offer_expiry_hours=12)
    entry = _offered(event, now)

    assert entry.offer_expires_at == now + timedelta(hours=12)


def test_offer_is_shortened_as_the_event_nears(app, now):
    event = make_event(capacity=1, starts_at=now + timedelta(hours=20), cancellation_cutoff_hours=0)
    entry = _offered(event, now)

    assert entry.offer_expires_at == now + timedelta(hours=5)  # a quarter of the time left


def test_offer_never_runs_past_booking_close(app, now):
    closes = now + timedelta(hours=3)
    event = make_event(capacity=1, starts_at=now + timedelta(days=30), booking_closes_at=closes)
    entry = _offered(event, now)

    assert entry.offer_expires_at == closes
