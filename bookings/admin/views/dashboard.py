"""Dashboard (occupancy, money, failed emails) and the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookings.admin import queries, services
from bookings.admin.access import admin_required
from bookings.admin.views import bp, optional_int
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError


@bp.get("/")
@admin_required
def dashboard():
    return render_template("admin/dashboard.html", board=queries.dashboard(utcnow()))


@bp.post("/emails/<int:message_id>/retry")
@admin_required
def retry_email(message_id: int):
    try:
        message = services.retry_outbox_message(message_id, current_user, utcnow())
        flash(f"The email to {message.to_address} will be sent again now.", "success")
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.dashboard"))


@bp.get("/audit")
@admin_required
def audit_log():
    filters = {
        "event_id": optional_int("event_id"),
        "reference": request.args.get("reference", "").strip()[:20],
        "user": request.args.get("user", "").strip()[:254],
    }
    results = queries.audit_page(
        event_id=filters["event_id"],
        reference=filters["reference"],
        user_text=filters["user"],
        page=queries.page_number(request.args.get("page")),
    )
    return render_template(
        "admin/audit.html",
        results=results,
        actors=queries.actor_names(results.items),
        details={r.id: queries.describe_details(r.details) for r in results.items},
        events=queries.event_choices(),
        filters=filters,
        args={k: v for k, v in filters.items() if v not in (None, "")},
    )
