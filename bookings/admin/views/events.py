"""Events: list, create, edit, publish, duplicate, move, cancel, questions."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from bookings.admin import queries, services
from bookings.admin.access import admin_required
from bookings.admin.event_form import Parsed, parse_form, values_for
from bookings.admin.views import bp, event_or_404
from bookings.catalogue import services as catalogue_services
from bookings.catalogue.inputs import FieldError, parse_datetime, parse_event_changes, parse_event_input
from bookings.catalogue.models import QuestionKind
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError, ValidationError
from bookings.extensions import db

EXTRA_ROWS = 2


@bp.get("/events")
@admin_required
def events():
    text = request.args.get("q", "").strip()[:200]
    status = request.args.get("status", "")
    results = queries.events_page(text=text, status=status, page=queries.page_number(request.args.get("page")))
    return render_template(
        "admin/events.html",
        results=results,
        occupancy=queries.occupancy_for(results.items, utcnow()),
        filters={"q": text, "status": status},
    )


def _form_page(event, values, errors, status=200):
    return render_template("admin/event_form.html", event=event, values=values, errors=errors), status


def _more_rows(values: dict[str, str]) -> dict[str, str]:
    for name in ("session_rows", "rate_rows"):
        current = values.get(name, "0")
        values[name] = str((int(current) if current.isdigit() else 0) + EXTRA_ROWS)
    return values


def _errors(parsed: Parsed, error: DomainError) -> dict[str, str]:
    if isinstance(error, ValidationError) and error.errors:
        return parsed.field_errors(error.errors)
    return parsed.field_errors({error.field or "title": error.message})


@bp.route("/events/new", methods=["GET", "POST"])
@admin_required
def new_event():
    if request.method == "GET":
        return _form_page(None, values_for(None), {})
    values = request.form.to_dict()
    if "add_rows" in request.form:
        return _form_page(None, _more_rows(values), {})
    parsed = parse_form(request.form)
    try:
        data = parse_event_input(parsed.data)
        if parsed.errors:
            return _form_page(None, values, parsed.errors, 422)
        event = catalogue_services.create_event(data, current_user.id, utcnow())
    except DomainError as error:
        db.session.rollback()
        return _form_page(None, values, _errors(parsed, error), 422)
    flash(f"{event.title} has been created as a draft.", "success")
    return redirect(url_for("admin.event", event_id=event.id))


@bp.get("/events/<int:event_id>")
@admin_required
def event(event_id: int):
    event = event_or_404(event_id)
    now = utcnow()
    return render_template(
        "admin/event.html",
        event=event,
        occupancy=queries.occupancy_for([event], now)[event.id],
        kinds=[k.value for k in QuestionKind],
        values={},
        errors={},
    )


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_event(event_id: int):
    event = event_or_404(event_id)
    if request.method == "GET":
        return _form_page(event, values_for(event), {})
    values = request.form.to_dict()
    if "add_rows" in request.form:
        return _form_page(event, _more_rows(values), {})
    parsed = parse_form(request.form, event=event)
    try:
        parse_event_changes(parsed.data, timezone=event.timezone)
        if parsed.errors:
            return _form_page(event, values, parsed.errors, 422)
        catalogue_services.update_event(event.id, parsed.data, current_user.id, utcnow())
    except DomainError as error:
        db.session.rollback()
        return _form_page(event_or_404(event_id), values, _errors(parsed, error), 422)
    flash("The event has been saved.", "success")
    return redirect(url_for("admin.event", event_id=event_id))


def _status_action(event_id: int, action, done: str):
    event_or_404(event_id)
    try:
        action(event_id, current_user.id, utcnow())
        flash(done, "success")
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.event", event_id=event_id))


@bp.post("/events/<int:event_id>/publish")
@admin_required
def publish_event(event_id: int):
    return _status_action(event_id, catalogue_services.publish_event, "The event is published.")


@bp.post("/events/<int:event_id>/unpublish")
@admin_required
def unpublish_event(event_id: int):
    return _status_action(event_id, catalogue_services.unpublish_event, "The event is back in draft.")


@bp.post("/events/<int:event_id>/duplicate")
@admin_required
def duplicate_event(event_id: int):
    event_or_404(event_id)
    copy = services.duplicate_event(event_id, current_user, utcnow())
    flash(f"A draft copy has been made: {copy.title}. Change its dates before publishing it.", "success")
    return redirect(url_for("admin.edit_event", event_id=copy.id))


@bp.route("/events/<int:event_id>/move", methods=["GET", "POST"])
@admin_required
def move_event(event_id: int):
    event = event_or_404(event_id)
    values = {"new_start": request.form.get("new_start", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            parse_datetime(values["new_start"], event.zone)  # checks the text
            # Passed on naive (wall-clock time in the event's timezone), so a time the clocks skip is refused.
            new_start = datetime.fromisoformat(values["new_start"].strip())
            services.move_event(event_id, current_user, utcnow(), new_start=new_start)
            flash("The event has been moved. Everyone booked is being told, and calendars will update.", "success")
            return redirect(url_for("admin.event", event_id=event_id))
        except FieldError:
            errors["new_start"] = "Enter the new date and time, like 2027-03-27 09:30"
        except ValidationError as error:
            errors.update(error.errors or {"new_start": error.message})
        except DomainError as error:
            errors["new_start"] = error.message
        db.session.rollback()
        event = event_or_404(event_id)
    return render_template("admin/event_move.html", event=event, values=values, errors=errors), (422 if errors else 200)


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@admin_required
def cancel_event(event_id: int):
    event = event_or_404(event_id)
    values = {"reason": request.form.get("reason", ""), "confirm": request.form.get("confirm", "")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        if values["confirm"] != "yes":
            errors["confirm"] = "Confirm that you want to cancel the event"
        if len(values["reason"]) > 500:
            errors["reason"] = "The reason must be 500 characters or fewer"
        if not errors:
            catalogue_services.cancel_event(event_id, current_user.id, utcnow(), reason=values["reason"].strip())
            flash("The event is cancelled. Everyone booked is being told and refunds have started.", "success")
            return redirect(url_for("admin.event", event_id=event_id))
    return render_template("admin/event_cancel.html", event=event, values=values, errors=errors), (
        422 if errors else 200
    )


@bp.post("/events/<int:event_id>/questions")
@admin_required
def add_question(event_id: int):
    event_or_404(event_id)
    values = request.form.to_dict()
    try:
        services.add_question(
            event_id,
            current_user,
            utcnow(),
            label=values.get("label", ""),
            kind=values.get("kind", ""),
            choices=values.get("choices", "").splitlines(),
            is_required=bool(values.get("is_required")),
        )
    except ValidationError as error:
        db.session.rollback()
        event = event_or_404(event_id)
        return render_template(
            "admin/event.html",
            event=event,
            occupancy=queries.occupancy_for([event], utcnow())[event.id],
            kinds=[k.value for k in QuestionKind],
            values=values,
            errors=error.errors,
        ), 422
    flash("The question has been added.", "success")
    return redirect(url_for("admin.event", event_id=event_id) + "#questions")


@bp.post("/events/<int:event_id>/questions/<int:question_id>/remove")
@admin_required
def remove_question(event_id: int, question_id: int):
    event = event_or_404(event_id)
    if question_id not in {q.id for q in event.questions}:
        abort(404)
    try:
        services.remove_question(question_id, current_user, utcnow())
        flash("The question has been removed.", "success")
    except DomainError as error:
        flash(error.message)
    return redirect(url_for("admin.event", event_id=event_id) + "#questions")
