"""Substituting an attendee: the check-in stays with the person who came, and the person replaced is told."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from bookings.admin import services as admin_services
from bookings.admin.exports import attendance_table
from bookings.booking import services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import Attendee, Booking, PaymentMethod, ReplacedPlace
from bookings.calendar.services import booking_ics_attachment
from bookings.core.audit import AuditRecord
from bookings.core.errors import Conflict
from bookings.extensions import db
from bookings.notifications.models import OutboxMessage
from bookings.notifications.outbox import render_deferred
from tests.support.factories import make_admin, make_event, make_user


def book_for(booker, event, now, *emails: str) -> Booking:
    """A free booking by `booker` with one place for each email."""
    people = [AttendeeInput(name=email.split("@")[0].title(), email=email) for email in emails]
    return services.book_places(
        event_id=event.id, booker=booker, ticket_type_id=None, people=people, method=PaymentMethod.FREE, now=now
    )


def substitute(booking: Booking, attendee_id: int, email: str, actor, now):
    return services.substitute_attendee(
        reference=booking.reference,
        attendee_id=attendee_id,
        name=email.split("@")[0].title(),
        email=email,
        actor=actor,
        now=now,
    )


def emails_to(address: str) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.to_address == address).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def substitution_audit() -> AuditRecord:
    return db.session.scalars(select(AuditRecord).where(AuditRecord.action == "attendee.substituted")).one()


# --- Check-in -------------------------------------------------------------------------------------------------------


def test_an_admins_substitution_clears_the_check_in_and_audits_it(app, clock):
    event = make_event()
    admin = make_admin()
    booking = book_for(make_user(), event, clock.now, "bob@council.example")
    bob_id = booking.attendees[0].id
    checked_in_at = clock.now
    admin_services.check_in(bob_id, admin, checked_in_at)

    substitute(booking, bob_id, "carol@council.example", admin, clock.advance(minutes=10))

    db.session.expire_all()
    carol = db.session.get(Attendee, bob_id)
    assert (carol.email, carol.checked_in_at) == ("carol@council.example", None)
    # attendance.csv no longer credits the substitute with Bob's attendance.
    table = attendance_table(event, [carol])
    (row,) = [dict(zip(table.header, r, strict=True)) for r in table.rows]
    assert (row["Name"], row["Hours attended"], row["Checked in"]) == ("Carol", 0, "no")
    details = substitution_audit().details
    assert details["previous"] == {
        "name": "Bob",
        "email": "bob@council.example",
        "checked_in_at": checked_in_at.isoformat(),
    }
    assert details["new"] == {"name": "Carol", "email": "carol@council.example"}


def test_the_booker_cannot_substitute_someone_already_checked_in(app, clock):
    event = make_event()
    booker = make_user()
    booking = book_for(booker, event, clock.now, "bob@council.example")
    bob_id = booking.attendees[0].id
    admin_services.check_in(bob_id, make_admin(), clock.now)

    with pytest.raises(Conflict) as refused:
        substitute(booking, bob_id, "carol@council.example", booker, clock.now)

    assert refused.value.code == "checked_in"
    assert "already been checked in" in refused.value.message
    db.session.expire_all()
    bob = db.session.get(Attendee, bob_id)
    assert (bob.email, bob.checked_in_at) == ("bob@council.example", clock.now)
    assert emails_to("carol@council.example") == []


def test_a_substitution_with_no_check_in_records_none(app, clock):
    booker = make_user()
    booking = book_for(booker, make_event(), clock.now, "bob@council.example")
    substitute(booking, booking.attendees[0].id, "carol@council.example", booker, clock.now)
    assert substitution_audit().details["previous"]["checked_in_at"] is None


# --- The person replaced --------------------------------------------------------------------------------------------


def test_the_person_replaced_is_emailed_a_cancellation_of_their_invite(app, clock):
    zoe = make_user(email="zoe@council.example", name="Zoë Booker")
    booking = book_for(zoe, make_event(), clock.now, "zoe@council.example", "sam@council.example")
    sam_place = booking.attendees[1].id
    render_deferred(clock.now)  # the mail process renders the confirmations, with their invites
    (invite,) = emails_to("sam@council.example")
    invited = icalendar.Calendar.from_ical(invite.attachments[0]["content"]).walk("VEVENT")

    substitute(booking, sam_place, "dan@council.example", zoe, clock.advance(hours=1))

    notice = next(m for m in emails_to("sam@council.example") if m.kind == "attendee_substituted")
    assert notice.subject.endswith("has been given to someone else")
    assert notice.booking_reference == booking.reference
    assert "Hello Sam" in notice.text_body and "booked for you by Zoë Booker" in notice.text_body
    (attachment,) = notice.attachments
    assert attachment["content_type"].endswith("method=CANCEL")
    cancel = icalendar.Calendar.from_ical(attachment["content"])
    assert str(cancel["METHOD"]) == "CANCEL"
    cancelled = cancel.walk("VEVENT")
    assert [str(e["UID"]) for e in cancelled] == [str(e["UID"]) for e in invited]
    assert all(str(e["STATUS"]) == "CANCELLED" for e in cancelled)
    assert all(c.decoded("SEQUENCE") > i.decoded("SEQUENCE") for c, i in zip(cancelled, invited, strict=True))
    # The same file the booking's own cancellation email carries: one builder, not a copy.
    assert attachment == booking_ics_attachment(booking, cancelled=True).__dict__
    # The substitute is invited as before; the booker, who made the change, gets nothing.
    assert [m.kind for m in emails_to("dan@council.example")] == ["attendee_confirmed"]
    assert [m.kind for m in emails_to("zoe@council.example")] == ["booking_confirmed"]


def test_the_replaced_persons_account_keeps_the_place_for_their_feed(app, clock):
    zoe, sam = make_user(), make_user(email="sam@council.example")
    booking = book_for(zoe, make_event(), clock.now, zoe.email, "sam@council.example", "nobody@council.example")
    sam_place, other_place = booking.attendees[1].id, booking.attendees[2].id

    substitute(booking, sam_place, "dan@council.example", zoe, clock.now)
    substitute(booking, other_place, "eve@council.example", zoe, clock.now)  # no account: nothing to keep

    rows = db.session.scalars(select(ReplacedPlace)).all()
    assert [(r.attendee_id, r.user_id, r.replaced_at) for r in rows] == [(sam_place, sam.id, clock.now)]
    # Their confirmation had not gone out yet: it is taken back, and the notice of the change goes instead.
    assert [m.kind for m in emails_to("nobody@council.example")] == ["attendee_substituted"]


def test_the_booker_replacing_their_own_place_is_not_sent_a_cancellation(app, clock):
    zoe = make_user(email="zoe@council.example")
    booking = book_for(zoe, make_event(), clock.now, "zoe@council.example", "sam@council.example")

    substitute(booking, booking.attendees[0].id, "dan@council.example", zoe, clock.now)

    assert [m.kind for m in emails_to("zoe@council.example")] == ["booking_confirmed"]
    assert db.session.scalars(select(ReplacedPlace)).all() == []


def test_correcting_a_name_with_the_same_email_cancels_nothing(app, clock):
    booker = make_user()
    booking = book_for(booker, make_event(), clock.now, "sam@council.example")
    services.substitute_attendee(
        reference=booking.reference,
        attendee_id=booking.attendees[0].id,
        name="Samuel Patel",
        email="sam@council.example",
        actor=booker,
        now=clock.now + timedelta(minutes=1),
    )
    assert [m.kind for m in emails_to("sam@council.example")] == ["attendee_confirmed", "attendee_confirmed"]
