"""Payment pages through the Flask test client: review with VAT and discounts, checkout redirect, return page,
documents, and the webhook's CSRF exemption."""

from __future__ import annotations

import pytest

from bookings.booking import services as booking_services
from bookings.booking.inputs import AttendeeInput
from bookings.booking.models import PaymentMethod
from bookings.payments import services
from tests.conftest import login_as
from tests.integration.payments.support import held_booking, paid_event, payment_of
from tests.support.factories import make_admin, make_user


def test_review_page_shows_the_order_with_vat_breakdown_and_a_discount_field(app, client, clock):
    booking = held_booking(paid_event(price_pence=10000, prices_include_vat=False), clock.now, places=2)
    login_as(client, booking.booker)
    page = client.get(f"/bookings/{booking.reference}/review").get_data(as_text=True)
    assert "Order summary" in page
    assert "VAT at 20%" in page
    assert "£240.00" in page  # £200 plus £40 VAT
    assert 'name="discount_code"' in page


def test_applying_a_discount_code_updates_the_order(app, client, clock):
    booking = held_booking(paid_event(price_pence=10000), clock.now)
    services.create_discount_code(code="SAVE10", amount_pence=1000, actor=make_admin(), now=clock.now)
    login_as(client, booking.booker)
    response = client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "save10"})
    assert response.status_code == 302
    page = client.get(f"/bookings/{booking.reference}/review").get_data(as_text=True)
    assert "Discount (SAVE10)" in page
    assert "£90.00" in page


def test_a_discount_of_the_whole_price_confirms_without_payment(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(price_pence=10000), real_clock.now)
    services.create_discount_code(code="SPEAKER", percent=100, actor=make_admin(), now=real_clock.now)
    login_as(client, booking.booker)
    client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "speaker"})

    page = client.get(f"/bookings/{booking.reference}/review").get_data(as_text=True)
    assert "there is nothing to pay" in page
    assert 'value="card"' not in page and 'value="invoice"' not in page
    response = client.post(f"/bookings/{booking.reference}/review", data={"payment": "free"})

    assert response.status_code == 302
    confirmed = booking_services.get_booking_for(booking.reference, booking.booker)
    assert (confirmed.status, confirmed.payment_method, confirmed.payment_status) == (
        "confirmed",
        PaymentMethod.FREE.value,
        "not_required",
    )
    assert payment_of(confirmed) is None  # no checkout was opened
    detail = client.get(f"/bookings/{booking.reference}").get_data(as_text=True)
    assert "No payment needed" in detail and "£100.00" not in detail  # not the list price


@pytest.mark.parametrize("payment", ["card", "invoice"])
def test_paying_for_a_booking_with_nothing_to_pay_is_refused_plainly_and_changes_nothing(
    stripe_app, client, fake_stripe, real_clock, payment
):
    booking = held_booking(paid_event(price_pence=10000), real_clock.now)
    services.create_discount_code(code="SPEAKER", percent=100, actor=make_admin(), now=real_clock.now)
    login_as(client, booking.booker)
    client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "speaker"})

    response = client.post(
        f"/bookings/{booking.reference}/review",
        data={"payment": payment, "billing_contact": "Accounts", "billing_address": "1 Town Hall"},
        follow_redirects=True,
    )

    assert "This booking is free: no payment is needed." in response.get_data(as_text=True)
    assert booking_services.get_booking_for(booking.reference, booking.booker).is_held
    assert payment_of(booking) is None  # no checkout opened (and, still held, no invoice)


def test_a_discount_of_part_of_the_price_still_asks_how_to_pay(app, client, clock):
    booking = held_booking(paid_event(price_pence=10000, allow_invoice=True), clock.now)
    services.create_discount_code(code="HALF", percent=50, actor=make_admin(), now=clock.now)
    login_as(client, booking.booker)
    client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "half"})

    response = client.post(f"/bookings/{booking.reference}/review", data={"payment": "free"})

    assert response.status_code == 422
    assert "Choose how to pay" in response.get_data(as_text=True)
    assert booking_services.get_booking_for(booking.reference, booking.booker).is_held


def test_once_places_are_cancelled_the_booking_page_leaves_the_figures_to_the_payment_page(app, client, clock):
    booker = make_user()
    booking = booking_services.book_places(
        event_id=paid_event(price_pence=6000).id,
        booker=booker,
        ticket_type_id=None,
        people=[AttendeeInput(name=f"Delegate {i}", email=f"d{i}@council.example") for i in range(2)],
        method=PaymentMethod.INVOICE,
        now=clock.now,
        billing=booking_services.BillingDetails(contact="Accounts", address="1 Town Hall"),
    )
    login_as(client, booker)
    assert "£120.00" in client.get(f"/bookings/{booking.reference}").get_data(as_text=True)  # 2 x £60, VAT included

    booking_services.cancel_booking(
        reference=booking.reference, actor=booker, now=clock.now, attendee_ids=[booking.attendees[0].id]
    )
    page = client.get(f"/bookings/{booking.reference}").get_data(as_text=True)
    assert "£60.00" not in page and "£120.00" not in page  # what is still owed depends on the credit note
    assert "Payment details, invoices and receipts" in page


def test_unknown_discount_code_shows_an_error_summary_linked_to_the_field(app, client, clock):
    booking = held_booking(paid_event(), clock.now)
    login_as(client, booking.booker)
    response = client.post(f"/bookings/{booking.reference}/discount", data={"discount_code": "NOPE"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert 'href="#discount_code"' in page


def test_choosing_card_goes_to_stripe_checkout(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    login_as(client, booking.booker)
    review = client.get(f"/bookings/{booking.reference}/review").get_data(as_text=True)
    assert "Pay now by card" in review

    response = client.post(f"/bookings/{booking.reference}/review", data={"payment": "card"})
    assert response.status_code == 303
    response = client.get(response.headers["Location"])

    assert response.status_code == 303
    session_id = payment_of(booking).checkout_session_id
    assert response.headers["Location"] == fake_stripe.session(session_id)["url"]


def test_return_page_shows_confirming_until_the_webhook_confirms(stripe_app, client, fake_stripe, real_clock):
    booking = held_booking(paid_event(), real_clock.now)
    login_as(client, booking.booker)
    client.get(f"/bookings/{booking.reference}/payment/checkout")
    fake_stripe.pay(payment_of(booking).checkout_session_id)  # no webhook endpoint: nothing delivered yet

    page = client.get(f"/bookings/{booking.reference}/payment/return").get_data(as_text=True)

    assert "We are confirming your payment" in page
    assert "Booking confirmed" not in page


def test_booker_gets_the_invoice_as_html_and_pdf_and_others_get_404(app, client, clock):
    booker = make_user()
    booking = booking_services.book_places(
        event_id=paid_event().id,
        booker=booker,
        ticket_type_id=None,
        people=[AttendeeInput(name="A Delegate", email="a@council.example")],
        method=PaymentMethod.INVOICE,
        now=clock.now,
        billing=booking_services.BillingDetails(purchase_order="PO-9", contact="Accounts", address="1 Town Hall"),
    )
    login_as(client, booker)
    overview = client.get(f"/bookings/{booking.reference}/payment").get_data(as_text=True)
    assert "INV-000001" in overview

    html = client.get(f"/bookings/{booking.reference}/documents/invoice/1")
    assert html.status_code == 200
    text = html.get_data(as_text=True)
    assert "PO-9" in text and "VAT breakdown" in text and "GB 123 4567 89" in text
    pdf = client.get(f"/bookings/{booking.reference}/documents/invoice/1.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")

    login_as(client, make_user())
    assert client.get(f"/bookings/{booking.reference}/documents/invoice/1").status_code == 404
    assert client.get(f"/bookings/{booking.reference}/documents/invoice/1.pdf").status_code == 404


def test_webhook_needs_no_csrf_token_but_a_valid_signature(csrf_app, fake_stripe):
    csrf_app.config.update(fake_stripe.app_config())
    client = csrf_app.test_client()
    response = client.post("/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=bad"})
    assert response.status_code == 400
    assert response.json["error"] == "bad_signature"
