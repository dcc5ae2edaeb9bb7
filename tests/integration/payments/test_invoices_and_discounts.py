"""Invoices, credit notes, receipts and discount codes against a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod, PaymentStatus
from bookings.core.errors import Conflict, Forbidden, ValidationError
from bookings.extensions import db
from bookings.payments import documents, services
from bookings.payments.models import DiscountCode, Document
from tests.integration.payments.support import held_booking, paid_event, reload
from tests.support.factories import make_admin, make_user

BILLING = booking_services.BillingDetails(
    purchase_order="PO-4471", contact="Accounts Payable", email="ap@council.example", address="1 Town Hall\nExampleton"
)


def invoice_booking(event, now, places: int = 1):
    user = make_user()
    people = [AttendeeInput(name=f"Delegate {i}", email=f"d{i}@council.example") for i in range(places)]
    return booking_services.book_places(
        event_id=event.id,
        booker=user,
        ticket_type_id=None,
        people=people,
        method=PaymentMethod.INVOICE,
        now=now,
        billing=BILLING,
    )


def documents_of(booking, kind: str) -> list[Document]:
    db.session.expire_all()
    rows = list(
        db.session.scalars(
            select(Document).where(Document.booking_id == booking.id, Document.kind == kind).order_by(Document.number)
        )
    )
    db.session.commit()
    return rows


def test_invoice_booking_is_confirmed_invoiced_with_a_numbered_invoice(app, clock):
    booking = invoice_booking(paid_event(price_pence=12000, vat_rate_bp=2000), clock.now, places=2)
    assert (booking.status, booking.payment_status) == ("confirmed", PaymentStatus.INVOICED.value)
    [invoice] = documents_of(booking, "invoice")
    assert invoice.display_number == "INV-000001"
    assert (invoice.net_pence, invoice.vat_pence, invoice.gross_pence) == (20000, 4000, 24000)


def test_invoice_numbers_follow_on_without_gaps(app, clock):
    event = paid_event(capacity=20)
    numbers = [documents_of(invoice_booking(event, clock.now), "invoice")[0].number for _ in range(4)]
    assert numbers == [1, 2, 3, 4]


def test_invoice_shows_organiser_vat_breakdown_and_purchase_order_as_html_and_pdf(app, clock):
    booking = invoice_booking(paid_event(price_pence=10000, prices_include_vat=False), clock.now)
    [invoice] = documents_of(booking, "invoice")
    booking = reload(booking)
    context = documents.document_context(invoice, booking)
    assert context["organiser"].vat_number == app.config["ORGANISER_VAT_NUMBER"]
    assert context["bands"] == [{"rate": 2000, "net": 10000, "vat": 2000, "gross": 12000, "rate_label": "20%"}]
    pdf = documents.render_pdf(invoice, booking)
    assert pdf.startswith(b"%PDF-")


def test_admin_marks_an_invoice_paid_and_nobody_else_can(app, clock):
    booking = invoice_booking(paid_event(), clock.now)
    with pytest.raises(Forbidden):
        services.mark_invoice_paid(booking.reference, reload(booking).booker, clock.now)
    services.mark_invoice_paid(booking.reference, make_admin(), clock.now)
    assert reload(booking).payment_status == PaymentStatus.PAID.value


def test_cancelling_an_invoice_booking_issues_a_credit_note_per_cancelled_place(app, clock):
    booking = invoice_booking(paid_event(price_pence=6000), clock.now, places=3)
    first = booking.active_attendees[0].id
    booking_services.cancel_booking(
        reference=booking.reference, actor=booking.booker, now=clock.now, attendee_ids=[first]
    )
    [note] = documents_of(booking, "credit_note")
    assert note.display_number == "CN-000001"
    assert (note.gross_pence, note.vat_pence) == (6000, 1000)


def _invoice_payment(booking):
    from bookings.payments.models import Payment

    db.session.expire_all()
    payment = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    db.session.commit()
    return payment


def test_an_invoice_paid_after_places_were_cancelled_is_paid_net_of_its_credit_notes(app, clock):
    from bookings.admin.queries import income_totals

    booking = invoice_booking(paid_event(price_pence=12000), clock.now, places=2)
    booking_services.cancel_booking(
        reference=booking.reference, actor=booking.booker, now=clock.now, attendee_ids=[booking.active_attendees[0].id]
    )
    assert _invoice_payment(booking).amount_pence == 12000  # what is still expected: £240 less the £120 credit
    income_before = income_totals().get("GBP", 0)

    services.mark_invoice_paid(booking.reference, make_admin(), clock.now)

    payment = _invoice_payment(booking)
    assert (payment.status, payment.amount_pence) == ("succeeded", 12000)
    assert income_totals().get("GBP", 0) - income_before == 12000


def test_an_unpaid_invoice_whose_places_are_all_cancelled_is_credited_and_cannot_be_marked_paid(app, clock):
    booking = invoice_booking(paid_event(price_pence=12000), clock.now, places=2)
    booking_services.cancel_booking(reference=booking.reference, actor=booking.booker, now=clock.now)

    booking = reload(booking)
    assert booking.payment_status == PaymentStatus.CREDITED.value
    assert sum(note.gross_pence for note in documents_of(booking, "credit_note")) == 24000
    assert (_invoice_payment(booking).status, _invoice_payment(booking).amount_pence) == ("cancelled", 0)
    with pytest.raises(Conflict):
        services.mark_invoice_paid(booking.reference, make_admin(), clock.now)
    assert _invoice_payment(booking).status == "cancelled"


def test_percentage_discount_comes_off_the_total_and_the_vat(app, clock):
    event = paid_event(price_pence=10000)
    services.create_discount_code(code="nhs 25", percent=25, actor=make_admin(), now=clock.now)
    booking = held_booking(event, clock.now, places=2)
    services.apply_discount_code(reference=booking.reference, code="NHS25", actor=booking.booker, now=clock.now)
    order = services.order_for(reload(booking))
    assert (order.subtotal_pence, order.discount_pence, order.total_pence) == (20000, 5000, 15000)
    assert order.vat_pence == 2500


def test_fixed_discount_for_another_event_is_refused(app, clock):
    other = paid_event()
    services.create_discount_code(
        code="OTHER10", amount_pence=1000, event_id=other.id, actor=make_admin(), now=clock.now
    )
    booking = held_booking(paid_event(), clock.now)
    with pytest.raises(ValidationError) as error:
        services.apply_discount_code(reference=booking.reference, code="OTHER10", actor=booking.booker, now=clock.now)
    assert error.value.errors == {"discount_code": "That discount code is not valid for this event"}


def test_discount_outside_its_window_is_refused(app, clock):
    services.create_discount_code(
        code="EARLY", percent=10, valid_until=clock.now - timedelta(minutes=1), actor=make_admin(), now=clock.now
    )
    booking = held_booking(paid_event(), clock.now)
    with pytest.raises(ValidationError):
        services.apply_discount_code(reference=booking.reference, code="early", actor=booking.booker, now=clock.now)


def test_used_up_code_is_refused_and_an_abandoned_booking_gives_its_use_back(app, clock):
    event = paid_event()
    services.create_discount_code(code="ONCE", percent=50, max_uses=1, actor=make_admin(), now=clock.now)
    first = held_booking(event, clock.now)
    second = held_booking(event, clock.now)
    services.apply_discount_code(reference=first.reference, code="ONCE", actor=first.booker, now=clock.now)
    with pytest.raises(ValidationError, match="used up"):
        services.apply_discount_code(reference=second.reference, code="ONCE", actor=second.booker, now=clock.now)

    booking_services.cancel_booking(reference=first.reference, actor=first.booker, now=clock.now)
    services.expire_checkouts(clock.now)

    services.apply_discount_code(reference=second.reference, code="ONCE", actor=second.booker, now=clock.now)
    assert db.session.scalar(select(DiscountCode.uses).where(DiscountCode.code == "ONCE")) == 1


def test_discount_cannot_be_added_to_a_confirmed_booking(app, clock):
    services.create_discount_code(code="LATE", percent=10, actor=make_admin(), now=clock.now)
    booking = invoice_booking(paid_event(), clock.now)
    with pytest.raises(Conflict):
        services.apply_discount_code(reference=booking.reference, code="LATE", actor=booking.booker, now=clock.now)
