"""Payment pages and the Stripe webhook. Thin: parse, call a service, render."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from bookings.booking import hooks as booking_hooks
from bookings.booking import services as booking_services
from bookings.booking.models import BookingStatus
from bookings.core.clock import utcnow
from bookings.core.errors import Conflict, DomainError, NotFound, ValidationError
from bookings.extensions import csrf
from bookings.payments import documents, services, stripe_api
from bookings.payments.models import (  # noqa: F401  imported so the app's metadata has the payment tables
    DiscountCode,
    DiscountRedemption,
    Document,
    DocumentCounter,
    DocumentKind,
    Payment,
    ProcessedWebhookEvent,
    Refund,
)
from bookings.payments.pricing import format_vat_rate

bp = Blueprint("payments", __name__)


def _review_context(booking) -> dict:
    """The order summary (lines, discount, VAT breakdown) for the booking area's review page."""
    return {"order": services.order_for(booking)} if booking.total_pence else {}


booking_hooks.provide_review_context("payments", _review_context)


@bp.app_template_filter("vat_rate")
def vat_rate_filter(vat_rate_bp: int) -> str:
    return format_vat_rate(vat_rate_bp)


def _booking(reference: str):
    try:
        return booking_services.get_booking_for(reference, current_user)
    except NotFound:
        abort(404)


@bp.get("/bookings/<reference>/payment/checkout")
@login_required
def checkout(reference: str):
    booking = _booking(reference)
    try:
        url = services.start_checkout(
            reference=booking.reference,
            actor=current_user,
            now=utcnow(),
            success_url=url_for("payments.checkout_return", reference=booking.reference, _external=True),
            cancel_url=url_for("booking.review", reference=booking.reference, _external=True),
        )
    except booking_services.HoldExpired as error:
        flash(error.message)
        return redirect(url_for("catalogue.event", slug=booking.event.slug))
    except DomainError as error:
        flash(error.message)
        if booking.is_confirmed:
            return redirect(url_for("booking.detail", reference=booking.reference))
        return redirect(url_for("booking.review", reference=booking.reference))
    return redirect(url, code=303)


@bp.get("/bookings/<reference>/payment/return")
@login_required
def checkout_return(reference: str):
    """Where Stripe sends the booker back. Shows the booking's real state; never confirms anything."""
    booking = _booking(reference)
    if booking.is_confirmed:
        state = "confirmed"
    elif booking.is_held and booking.is_hold_live(utcnow()):
        state = "confirming"
    elif booking.status in (BookingStatus.EXPIRED.value, BookingStatus.HELD.value):
        state = "expired"
    else:
        state = "cancelled"
    return render_template("payments/return.html", booking=booking, event=booking.event, state=state)


@bp.post("/bookings/<reference>/discount")
@login_required
def apply_discount(reference: str):
    booking = _booking(reference)
    code = request.form.get("discount_code", "")
    try:
        services.apply_discount_code(reference=booking.reference, code=code, actor=current_user, now=utcnow())
    except ValidationError as error:
        booking = _booking(reference)
        return render_template(
            "booking/review.html",
            booking=booking,
            event=booking.event,
            errors=error.errors or {"discount_code": error.message},
            values={"discount_code": code},
            card_available=stripe_api.is_configured(),
            now=utcnow(),
            **_review_context(booking),
        ), 422
    except Conflict as error:
        flash(error.message)
        return redirect(url_for("booking.detail", reference=booking.reference))
    flash("Your discount code has been applied.", "success")
    return redirect(url_for("booking.review", reference=booking.reference))


@bp.get("/bookings/<reference>/payment")
@login_required
def overview(reference: str):
    booking = _booking(reference)
    return render_template("payments/overview.html", overview=services.payment_overview(booking), event=booking.event)


def _document(reference: str, kind: str, number: int):
    booking = _booking(reference)
    if kind not in {k.value for k in DocumentKind}:
        abort(404)
    document = services.find_document(booking, kind, number)
    if document is None:
        abort(404)
    return booking, document


@bp.get("/bookings/<reference>/documents/<kind>/<int:number>")
@login_required
def document_html(reference: str, kind: str, number: int):
    booking, document = _document(reference, kind, number)
    return render_template("payments/document.html", **documents.document_context(document, booking))


@bp.get("/bookings/<reference>/documents/<kind>/<int:number>.pdf")
@login_required
def document_pdf(reference: str, kind: str, number: int):
    booking, document = _document(reference, kind, number)
    response = make_response(documents.render_pdf(document, booking))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{document.display_number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/webhooks/stripe")
@csrf.exempt
def stripe_webhook():
    """Stripe's signed events. 400 and no change for a bad signature; 200 once an event is processed (or seen)."""
    payload = request.get_data(cache=False)
    try:
        event = stripe_api.verify_event(payload, request.headers.get("Stripe-Signature"))
    except stripe_api.BadSignature:
        return jsonify(error="bad_signature", message="The Stripe signature did not verify."), 400
    if not isinstance(event.get("id"), str) or not event.get("type"):
        return jsonify(error="bad_event", message="The event has no id or type."), 400
    outcome = services.handle_stripe_event(event, utcnow())
    current_app.logger.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return jsonify(received=True, outcome=outcome)
