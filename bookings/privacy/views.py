"""`/account/data` (download what we hold about you) and `/account/close` (close your account)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from bookings.core.clock import utcnow
from bookings.core.errors import DomainError
from bookings.privacy import services
from bookings.privacy.forms import CloseAccountForm, DownloadDataForm

bp = Blueprint("privacy", __name__)


@bp.route("/account/data", methods=["GET", "POST"])
@login_required
def download_data():
    form = DownloadDataForm()
    if form.validate_on_submit():
        data = services.download_my_data(current_user.id)
        stamp = utcnow().strftime("%Y-%m-%d")
        return Response(
            json.dumps(data, indent=2, ensure_ascii=False),
            mimetype="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="my-bookings-data-{stamp}.json"',
                "Cache-Control": "no-store",
            },
        )
    return render_template("privacy/data.html", form=form)


@bp.route("/account/close", methods=["GET", "POST"])
@login_required
def close_account():
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            services.close_account(current_user.id, form.password.data, utcnow())
        except DomainError as error:
            field = form[error.field] if error.field and error.field in form else form.password
            field.errors = [*field.errors, error.message]
        else:
            logout_user()
            session.clear()
            flash("Your account has been closed and your booking details removed.", "success")
            return redirect(url_for("catalogue.index"))
    return render_template("privacy/close.html", form=form)
