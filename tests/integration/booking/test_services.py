"""Booking services against a real database: holds, details, confirmation, cancellation, substitution, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bookings import capacity
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Attendee, Booking, BookingStatus, PaymentMethod, PaymentStatus
from bookings.booking.rules import BookingClosed, CutoffPassed
from bookings.catalogue.models import Question
from bookings.core.audit import AuditRecord
from bookings.core.errors import NotFound, RateLimited, SoldOut, ValidationError
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from tests.support.factories import make_admin, make_event, make_user


def people(n: int) -> list[AttendeeInput]:
    return [AttendeeInput(name=f"Person {i}", email=f"person{i}@nhs.example") for i in range(n)]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def places_left(event, now) -> int:
    db.session.expire_all()
    return capacity.availability(db.session.get(type(event), event.id), now).places_left


def test_hold_takes_places_until_it_expires(app, clock):
    event = make_event(capacity=5)
    user = make_user()
    booking = services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=3, now=clock.now)
    assert booking.status == BookingStatus.HELD.value
    assert booking.hold_expires_at == clock.now + timedelta(minutes=30)
    assert places_left(event, clock.now) == 2
    assert places_left(event, clock.now + timedelta(minutes=29, seconds=59)) == 2


def test_expired_hold_frees_places_for_next_reader_before_any_sweep(app, clock):
    event = make_event(capacity=5)
    user, other = make_user(), make_user()
    services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=5, now=clock.now)
    with pytest.raises(SoldOut):
        services.hold_places(event_id=event.id, booker_id=other.id, ticket_type_id=None, places=1, now=clock.now)
    later = clock.advance(minutes=31)
    assert places_left(event, later) == 5  # no sweep has run
    booking = services.hold_places(event_id=event.id, booker_id=other.id, ticket_type_id=None, places=5, now=later)
    assert booking.is_held


def test_sold_out_reports_places_left_and_writes_nothing(app, clock):
    event = make_event(capacity=3)
    user = make_user()
    services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=2, now=clock.now)
    before = (count(Booking), count(Attendee), count(AuditRecord))
    with pytest.raises(SoldOut) as raised:
        services.hold_places(event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=2, now=clock.now)
    assert raised.value.places_left == 1
    assert (count(Booking), count(Attendee), count(AuditRecord)) == before


def test_rate_cap_limits_its_rate_inside_capacity(app, clock):
    event = make_event(
        capacity=10,
        ticket_types=[{"name": "Early bird", "price_pence": 5000, "cap": 2}, {"name": "Standard", "price_pence": 9000}],
    )
    early, standard = event.ticket_types
    user = make_user()
    services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=early.id, places=2, now=clock.now)
    with pytest.raises(SoldOut) as raised:
        services.hold_places(
            event_id=event.id, booker_id=make_user().id, ticket_type_id=early.id, places=1, now=clock.now
        )
    assert raised.value.places_left == 0
    booking = services.hold_places(
        event_id=event.id, booker_id=make_user().id, ticket_type_id=standard.id, places=8, now=clock.now
    )
    assert booking.total_pence == 8 * 9000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "cancelled"}, "cancelled"),
        ({"status": "draft"}, "not open"),
        ({"booking_opens_at_offset": timedelta(days=1)}, "not opened"),
        ({"booking_closes_at_offset": -timedelta(minutes=1)}, "closed"),
    ],
)
def test_event_rules_refuse_bookings(app, clock, overrides, message):
    extra = {}
    if "booking_opens_at_offset" in overrides:
        extra["booking_opens_at"] = clock.now + overrides.pop("booking_opens_at_offset")
    if "booking_closes_at_offset" in overrides:
        extra["booking_closes_at"] = clock.now + overrides.pop("booking_closes_at_offset")
    event = make_event(**overrides, **extra)
    with pytest.raises(BookingClosed, match=message):
        services.hold_places(event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=1, now=clock.now)


def test_no_booking_once_the_event_has_started(app, clock):
    event = make_event(starts_at=clock.now - timedelta(minutes=5))
    with pytest.raises(BookingClosed, match="started"):
        services.hold_places(event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=1, now=clock.now)


def test_rate_outside_its_sale_window_is_refused(app, clock):
    event = make_event(ticket_types=[{"name": "Early bird", "price_pence": 100, "sale_ends_at": clock.now}])
    with pytest.raises(BookingClosed, match="not on sale"):
        services.hold_places(
            event_id=event.id,
            booker_id=make_user().id,
            ticket_type_id=event.ticket_types[0].id,
            places=1,
            now=clock.now,
        )


def test_most_places_per_booking_is_enforced(app, clock):
    event = make_event(capacity=50, max_places_per_booking=4)
    with pytest.raises(ValidationError, match="up to 4"):
        services.hold_places(event_id=event.id, booker_id=make_user().id, ticket_type_id=None, places=5, now=clock.now)


def test_starting_again_replaces_the_unfinished_hold(app, clock):
    event = make_event(capacity=4)
    user = make_user()
    first = services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=3, now=clock.now)
    services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=4, now=clock.now)
    assert db.session.get(Booking, first.id).status == BookingStatus.CANCELLED.value
    assert places_left(event, clock.now) == 0


def test_live_holds_per_user_are_capped(app, clock):
    app.config["MAX_LIVE_HOLDS_PER_USER"] = 2
    user = make_user()
    for _ in range(2):
        services.hold_places(event_id=make_event().id, booker_id=user.id, ticket_type_id=None, places=1, now=clock.now)
    with pytest.raises(RateLimited):
        services.hold_places(event_id=make_event().id, booker_id=user.id, ticket_type_id=None, places=1, now=clock.now)


def test_free_booking_is_confirmed_with_emails_and_audit(app, clock):
    event = make_event(capacity=5)
    booker = make_user(email="booker@council.example")
    booking = services.hold_places(event_id=event.id, booker_id=booker.id, ticket_type_id=None, places=2, now=clock.now)
    services.save_attendee_details(
        reference=booking.reference,
        actor=booker,
        people=[
            AttendeeInput(name="Booker", email="booker@council.example"),
            AttendeeInput(name="Colleague", email="colleague@council.example"),
        ],
        now=clock.now,
    )
    confirmed = services.confirm_booking(
        reference=booking.reference, actor=booker, method=PaymentMethod.FREE, now=clock.now
    )
    assert confirmed.status == BookingStatus.CONFIRMED.value
    assert confirmed.payment_status == PaymentStatus.NOT_REQUIRED.value
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address)).all()
    assert [m.to_address for m in messages] == ["booker@council.example", "colleague@council.example"]
    invite = messages[0].attachments[0]
    assert invite["filename"] == f"booking-{booking.reference}.ics"
    assert "method=REQUEST" in invite["content_type"] and "METHOD:REQUEST" in invite["content"]
    actions = [a.action for a in db.session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions == ["booking.held", "booking.details_saved", "booking.confirmed"]
    assert places_left(event, clock.now + timedelta(days=2)) == 3  # confirmed places never expire


def test_invoice_booking_needs_billing_details_and_is_invoiced(app, clock):
    event = make_event(ticket_types=[{"name": "Public sector", "price_pence": 9500}])
    booker = make_user()
    booking = services.hold_places(event_id=event.id, booker_id=booker.id, ticket_type_id=None, places=1, now=clock.now)
    services.save_attendee_details(reference=booking.reference, actor=booker, people=people(1), now=clock.now)
    with pytest.raises(ValidationError) as raised:
        services.confirm_booking(
            reference=booking.reference,
            actor=booker,
            method=PaymentMethod.INVOICE,
            now=clock.now,
            billing=services.BillingDetails(),
        )
    assert set(raised.value.errors) == {"billing_contact", "billing_address"}
    assert db.session.get(Booking, booking.id).status == BookingStatus.HELD.value
    confirmed = services.confirm_booking(
        reference=booking.reference,
        actor=booker,
        method=PaymentMethod.INVOICE,
        now=clock.now,
        billing=services.BillingDetails(purchase_order="PO-123", contact="Accounts", address="1 Town Hall"),
    )
    assert confirmed.payment_status == PaymentStatus.INVOICED.value
    assert confirmed.purchase_order == "PO-123"


def test_attendee_details_are_validated_including_custom_questions(app, clock):
    event = make_event()
    db.session.add(
        Question(event_id=event.id, label="Which workshop?", kind="choice", choices=["A", "B"], is_required=True)
    )
    db.session.add(Question(event_id=event.id, label="Parking?", kind="yesno"))
    db.session.commit()
    booker = make_user()
    booking = services.hold_places(event_id=event.id, booker_id=booker.id, ticket_type_id=None, places=1, now=clock.now)
    bad = [AttendeeInput(name=" ", email="not-an-email", answers={})]
    with pytest.raises(ValidationError) as raised:
        services.save_attendee_details(reference=booking.reference, actor=booker, people=bad, now=clock.now)
    choice_q, yes_no_q = event.questions
    assert set(raised.value.errors) == {"attendees-0-name", "attendees-0-email", f"attendees-0-q{choice_q.id}"}
    assert db.session.get(Booking, booking.id).is_details_complete is False
    good = [
        AttendeeInput(name="Ann", email="Ann@Council.Example", answers={str(choice_q.id): "B", str(yes_no_q.id): "no"})
    ]
    services.save_attendee_details(reference=booking.reference, actor=booker, people=good, now=clock.now)
    attendee = db.session.scalars(select(Attendee)).one()
    assert attendee.email == "ann@council.example"
    assert attendee.answers == {str(choice_q.id): "B", str(yes_no_q.id): "no"}


def test_confirming_after_expiry_succeeds_only_if_places_remain(app, clock):
    event = make_event(capacity=1)
    slow, fast = make_user(), make_user()
    booking = services.hold_places(event_id=event.id, booker_id=slow.id, ticket_type_id=None, places=1, now=clock.now)
    services.save_attendee_details(reference=booking.reference, actor=slow, people=people(1), now=clock.now)
    clock.advance(minutes=40)
    taken = services.book_places(
        event_id=event.id, booker=fast, ticket_type_id=None, people=people(1), method=PaymentMethod.FREE, now=clock.now
    )
    assert taken.is_confirmed
    with pytest.raises(services.HoldExpired):
        services.confirm_booking(reference=booking.reference, actor=slow, method=PaymentMethod.FREE, now=clock.now)
    assert db.session.get(Booking, booking.id).status != BookingStatus.CONFIRMED.value


def test_another_users_booking_is_not_found(app, clock):
    event = make_event()
    owner, stranger, admin = make_user(), make_user(), make_admin()
    booking = services.book_places(
        event_id=event.id, booker=owner, ticket_type_id=None, people=people(1), method=PaymentMethod.FREE, now=clock.now
    )
    with pytest.raises(NotFound):
        services.get_booking_for(booking.reference, stranger)
    with pytest.raises(NotFound):
        services.cancel_booking(reference=booking.reference, actor=stranger, now=clock.now)
    assert services.get_booking_for(booking.reference, admin).id == booking.id


def test_cancel_one_place_then_the_rest(app, clock):
    event = make_event(capacity=3)
    booker = make_user()
    booking = services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=people(3),
        method=PaymentMethod.FREE,
        now=clock.now,
    )
    first = booking.attendees[0].id
    services.cancel_booking(reference=booking.reference, actor=booker, now=clock.now, attendee_ids=[first])
    assert places_left(event, clock.now) == 1
    booking = services.cancel_booking(reference=booking.reference, actor=booker, now=clock.now)
    assert booking.status == BookingStatus.CANCELLED.value
    assert places_left(event, clock.now) == 3
    assert services.cancel_booking(reference=booking.reference, actor=booker, now=clock.now).is_cancelled


def test_cancellation_cut_off_applies_to_attendees_not_admins(app, clock):
    event = make_event(starts_at=clock.now + timedelta(hours=10), cancellation_cutoff_hours=24)
    booker, admin = make_user(), make_admin()
    booking = services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=people(1),
        method=PaymentMethod.FREE,
        now=clock.now,
    )
    with pytest.raises(CutoffPassed):
        services.cancel_booking(reference=booking.reference, actor=booker, now=clock.now)
    assert services.cancel_booking(reference=booking.reference, actor=admin, now=clock.now).is_cancelled


def test_cancel_unknown_attendee_changes_nothing(app, clock):
    event = make_event(capacity=3)
    booker = make_user()
    booking = services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=people(2),
        method=PaymentMethod.FREE,
        now=clock.now,
    )
    with pytest.raises(ValidationError):
        services.cancel_booking(reference=booking.reference, actor=booker, now=clock.now, attendee_ids=[999999])
    assert places_left(event, clock.now) == 1


def test_substitute_attendee_before_cut_off(app, clock):
    event = make_event(starts_at=clock.now + timedelta(days=3), substitution_cutoff_hours=24)
    booker = make_user()
    booking = services.book_places(
        event_id=event.id,
        booker=booker,
        ticket_type_id=None,
        people=people(1),
        method=PaymentMethod.FREE,
        now=clock.now,
    )
    attendee_id = booking.attendees[0].id
    with pytest.raises(ValidationError):
        services.substitute_attendee(
            reference=booking.reference, attendee_id=attendee_id, name="", email="x", actor=booker, now=clock.now
        )
    services.substitute_attendee(
        reference=booking.reference,
        attendee_id=attendee_id,
        name="New Person",
        email="new@nhs.example",
        actor=booker,
        now=clock.now,
    )
    attendee = db.session.get(Attendee, attendee_id)
    assert (attendee.name, attendee.email) == ("New Person", "new@nhs.example")
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "new@nhs.example")).one()
    clock.advance(days=2, hours=1)
    with pytest.raises(CutoffPassed):
        services.substitute_attendee(
            reference=booking.reference,
            attendee_id=attendee_id,
            name="Late",
            email="late@nhs.example",
            actor=booker,
            now=clock.now,
        )


def test_api_booking_with_bad_attendee_takes_no_places(app, clock):
    event = make_event(capacity=2)
    before = (count(Booking), count(Attendee))
    with pytest.raises(ValidationError):
        services.book_places(
            event_id=event.id,
            booker=make_user(),
            ticket_type_id=None,
            people=[AttendeeInput(name="Ok", email="ok@x.example"), AttendeeInput(name="", email="bad")],
            method=PaymentMethod.FREE,
            now=clock.now,
        )
    assert (count(Booking), count(Attendee)) == before


def test_sweep_expires_holds_once_and_is_idempotent(app, clock):
    event = make_event(capacity=4)
    user = make_user()
    booking = services.hold_places(event_id=event.id, booker_id=user.id, ticket_type_id=None, places=2, now=clock.now)
    services.save_attendee_details(reference=booking.reference, actor=user, people=people(2), now=clock.now)
    assert services.expire_holds(clock.now) == 0
    clock.advance(minutes=31)
    assert services.expire_holds(clock.now) == 1
    assert services.expire_holds(clock.now) == 0
    assert db.session.get(Booking, booking.id).status == BookingStatus.EXPIRED.value
    emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "hold_expired")).all()
    assert len(emails) == 1


def test_live_holds_per_user_on_one_event_are_capped(app, clock):
    app.config["MAX_LIVE_HOLDS_PER_EVENT_PER_USER"] = 2
    event, other_event = make_event(capacity=50), make_event(capacity=50)
    user = make_user()
    for _ in range(2):
        services.hold_places(
            event_id=event.id, booker_id=user.id, ticket_type_id=None, places=1, now=clock.now, replace_previous=False
        )
    with pytest.raises(RateLimited, match="for this event"):
        services.hold_places(
            event_id=event.id, booker_id=user.id, ticket_type_id=None, places=1, now=clock.now, replace_previous=False
        )
    assert services.hold_places(
        event_id=other_event.id, booker_id=user.id, ticket_type_id=None, places=1, now=clock.now
    ).is_held
