"""Rule 5 for attendees: someone whose place is cancelled is told, and their invite withdrawn (same UIDs)."""

from __future__ import annotations

import icalendar

from bookings.booking import services
from bookings.catalogue import services as catalogue_services
from bookings.extensions import db
from bookings.notifications.outbox import render_deferred
from tests.integration.booking.test_substitution import book_for, emails_to
from tests.support.factories import make_admin, make_event, make_user


def _uids(message) -> list[str]:
    (attachment,) = message.attachments
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(attachment["content"]).walk("VEVENT")]


def test_an_attendee_whose_place_is_cancelled_is_told_and_their_invite_withdrawn(app, clock):
    zoe = make_user(email="zoe@council.example", name="Zoë Booker")
    booking = book_for(zoe, make_event(), clock.now, "zoe@council.example", "sam@council.example")
    render_deferred(clock.now)  # the confirmations, with their invites
    (invite,) = emails_to("sam@council.example")
    invited = _uids(invite)
    invite.status = "sent"  # as the mail process would have by now (a message not yet sent is taken back)
    db.session.commit()

    services.cancel_booking(
        reference=booking.reference, actor=zoe, now=clock.advance(hours=1), attendee_ids=[booking.attendees[1].id]
    )

    notice = next(m for m in emails_to("sam@council.example") if m.kind == "place_cancelled")
    assert notice.subject.endswith("has been cancelled") and "booked for you by Zoë Booker" in notice.text_body
    cancel = icalendar.Calendar.from_ical(notice.attachments[0]["content"])
    assert str(cancel["METHOD"]) == "CANCEL"
    assert _uids(notice) == invited
    # The booker, still going, hears about the booking only.
    assert [m.kind for m in emails_to("zoe@council.example") if m.kind.endswith("cancelled")] == ["booking_cancelled"]


def test_cancelling_a_whole_booking_tells_each_other_attendee_once(app, clock):
    zoe = make_user(email="zoe@council.example")
    booking = book_for(zoe, make_event(), clock.now, "sam@council.example", "ash@council.example")

    services.cancel_booking(reference=booking.reference, actor=zoe, now=clock.advance(hours=1))

    for address in ("sam@council.example", "ash@council.example"):
        assert [m.kind for m in emails_to(address) if m.kind == "place_cancelled"] == ["place_cancelled"]


def test_a_cancelled_event_tells_attendees_once_with_its_own_email(app, clock):
    zoe = make_user(email="zoe@council.example")
    event = make_event()
    book_for(zoe, event, clock.now, "sam@council.example")

    catalogue_services.cancel_event(event.id, make_admin().id, clock.advance(hours=1))

    kinds = [m.kind for m in emails_to("sam@council.example")]
    assert "event_cancelled" in kinds and "place_cancelled" not in kinds


def test_a_confirmation_not_yet_sent_is_taken_back_when_the_place_goes(app, clock):
    zoe = make_user(email="zoe@council.example")
    booking = book_for(zoe, make_event(), clock.now, "sam@council.example", "ash@council.example")
    sam, ash = booking.attendees
    # Before the mail process has rendered the confirmations: Sam's place is cancelled, Ash's given to Dan.
    services.cancel_booking(reference=booking.reference, actor=zoe, now=clock.now, attendee_ids=[sam.id])
    services.substitute_attendee(
        reference=booking.reference,
        attendee_id=ash.id,
        name="Dan",
        email="dan@council.example",
        actor=zoe,
        now=clock.now,
    )
    render_deferred(clock.now)

    assert [m.kind for m in emails_to("sam@council.example")] == ["place_cancelled"]
    assert [m.kind for m in emails_to("ash@council.example")] == ["attendee_substituted"]
    assert [m.kind for m in emails_to("dan@council.example")] == ["attendee_confirmed"]
    assert "booking_confirmed" in [m.kind for m in emails_to("zoe@council.example")]  # still going ahead

    # The whole booking cancelled before the booker's confirmation went out: they hear of the cancellation only.
    services.cancel_booking(reference=booking.reference, actor=zoe, now=clock.now)
    assert {m.kind for m in emails_to("zoe@council.example")} == {"booking_cancelled"}
