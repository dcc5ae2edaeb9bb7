"""Payments (DESIGN.md rules 3, 7, 8): Stripe Checkout, webhooks, invoices, credit notes, receipts, refunds.

Rule 3 lives here: nothing paid is lost. Every Stripe event is processed at
most once (the unique insert of its id), in any order; a payment for a hold
that has expired confirms the booking if its places still fit, and is
otherwise refunded automatically, the booker told and admins shown. No
database transaction is ever held open across a call to Stripe.
"""

from bookings.booking import hooks
from bookings.payments.services.checkout import start_checkout
from bookings.payments.services.common import PaymentUnavailable, order_for
from bookings.payments.services.discounts import (
    DiscountStatus,
    apply_discount_code,
    create_discount_code,
    discount_code_errors,
    discount_status,
    end_discount_code,
)
from bookings.payments.services.invoices import confirmation_attachments, issue_invoice_for, mark_invoice_paid
from bookings.payments.services.queries import find_document, payment_overview, payments_needing_attention
from bookings.payments.services.refunds import (
    on_booking_cancelled,
    retry_refunds,
    send_new_refunds,
    send_pending_refunds_for,
    send_refund,
)
from bookings.payments.services.sweep import expire_checkouts
from bookings.payments.services.webhooks import handle_stripe_event

hooks.on_cancel("payments", on_booking_cancelled)
hooks.after_cancel_commit("payments", send_pending_refunds_for)
hooks.provide_attachments("payments", confirmation_attachments)
hooks.provide_amount_due("payments", lambda booking: order_for(booking).total_pence)  # discount and VAT included

__all__ = [
    "DiscountStatus",
    "PaymentUnavailable",
    "apply_discount_code",
    "create_discount_code",
    "discount_code_errors",
    "discount_status",
    "end_discount_code",
    "expire_checkouts",
    "find_document",
    "handle_stripe_event",
    "issue_invoice_for",
    "mark_invoice_paid",
    "on_booking_cancelled",
    "order_for",
    "payment_overview",
    "payments_needing_attention",
    "retry_refunds",
    "send_new_refunds",
    "send_pending_refunds_for",
    "send_refund",
    "start_checkout",
]
