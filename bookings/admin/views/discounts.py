"""Discount codes: the list with their uses, create one, end one early."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookings.admin import queries
from bookings.admin.access import admin_required
from bookings.admin.discount_form import parse_discount_form, values_from
from bookings.admin.views import bp
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError, ValidationError
from bookings.extensions import db
from bookings.payments import services as payment_services


@bp.get("/discount-codes")
@admin_required
def discount_codes():
    results = queries.discount_codes_page(now=utcnow(), page=queries.page_number(request.args.get("page")))
    return render_template("admin/discount_codes.html", results=results)


def _form_page(values: dict[str, str], errors: dict[str, str], events: list[tuple[int, str]], status: int = 200):
    return render_template("admin/discount_code_form.html", values=values, errors=errors, events=events), status


@bp.route("/discount-codes/new", methods=["GET", "POST"])
@admin_required
def new_discount_code():
    events = queries.event_choices()
    if request.method == "GET":
        return _form_page({}, {}, events)
    parsed = parse_discount_form(request.form, {event_id for event_id, _ in events})
    errors = parsed.problems()
    if not errors:
        try:
            discount = payment_services.create_discount_code(**parsed.arguments, actor=current_user, now=utcnow())
            flash(f"The discount code {discount.code} has been created.", "success")
            return redirect(url_for("admin.discount_codes"))
        except ValidationError as error:
            db.session.rollback()
            errors = parsed.field_errors(error.errors or {"code": error.message})
    return _form_page(values_from(request.form), errors, events, 422)


@bp.route("/discount-codes/<int:discount_id>/end", methods=["GET", "POST"])
@admin_required
def end_discount_code(discount_id: int):
    row = queries.discount_code_row(discount_id, utcnow())
    if row is None:
        abort(404)
    if request.method == "GET":
        return render_template("admin/discount_code_end.html", row=row)
    try:
        ended = payment_services.end_discount_code(discount_id, actor=current_user, now=utcnow())
        flash(
            f"The discount code {ended.code} has ended: it can no longer be used. "
            "Bookings that already have it keep their discount.",
            "success",
        )
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.discount_codes"))
