"""Register, sign in and out, password reset and change, the account page and API tokens."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from bookings.accounts import services
from bookings.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegisterForm,
    RevokeApiTokenForm,
    SignInForm,
)
from bookings.accounts.models import SECTOR_LABELS, User
from bookings.accounts.redirects import is_safe_next
from bookings.core import pages
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError
from bookings.core.ratelimit import per_person, rate_limit

bp = Blueprint("accounts", __name__)


def _show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal on the field it names, so the error summary links to it."""
    field = form[error.field] if error.field and error.field in form else next(iter(form))
    field.errors = [*field.errors, error.message]


def _next_or_account(next_url: str | None) -> str:
    return next_url if is_safe_next(next_url) else url_for("accounts.account")


def _sign_in(user: User, *, remember: bool) -> None:
    session.clear()  # a new session at every sign-in: nothing from before carries over
    days = current_app.config["REMEMBER_COOKIE_DURATION_DAYS"]
    login_user(user, remember=remember, duration=timedelta(days=days))


def _has_remember_cookie() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
def login():
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(_next_or_account(next_url))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, request.remote_addr, utcnow())
        except DomainError as error:
            _show_error(form, error)
        else:
            _sign_in(user, remember=form.remember.data)
            return redirect(_next_or_account(next_url))
    return render_template(
        "accounts/login.html", form=form, remember_days=current_app.config["REMEMBER_COOKIE_DURATION_DAYS"]
    )


@bp.route("/register", methods=["GET", "POST"])
@rate_limit(per_person("register"), 10, 3600, action="create an account")
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            # A taken address is answered exactly like a new one; its holder gets an email instead.
            services.register_user(
                name=form.name.data,
                email=form.email.data,
                organisation=form.organisation.data,
                sector=form.sector.data,
                password=form.password.data,
                now=utcnow(),
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            return redirect(url_for("accounts.registered"))
    return render_template("accounts/register.html", form=form)


@bp.get("/register/check-your-email")
def registered():
    return render_template("accounts/registered.html")


@bp.post("/sign-out")
def logout():
    logout_user()  # also asks Flask-Login to delete the remember-me cookie
    flash("You have signed out.", "success")
    return redirect(url_for("catalogue.index"))


@bp.get("/account")
@login_required
def account():
    sector_label = SECTOR_LABELS.get(current_user.sector, current_user.sector)  # str enum: looks up by value
    extra = pages.context_for("account", user=current_user, now=utcnow())
    return render_template("accounts/account.html", user=current_user, sector_label=sector_label, **extra)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(account_email=current_user.email)
    if form.validate_on_submit():
        remember = _has_remember_cookie()
        try:
            user = services.change_password(
                current_user.id, form.current_password.data, form.new_password.data, utcnow()
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            _sign_in(user, remember=remember)  # the new epoch: this session goes on, all others end
            flash("Your password has been changed. You have been signed out on every other device.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/password-reset", methods=["GET", "POST"])
def request_reset():
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, utcnow(), address=request.remote_addr)
        except DomainError as error:
            _show_error(form, error)
        else:
            return redirect(url_for("accounts.reset_sent"))
    return render_template("accounts/reset_request.html", form=form)


@bp.get("/password-reset/sent")
def reset_sent():
    return render_template("accounts/reset_sent.html")


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    now = utcnow()
    try:
        user = services.check_reset_token(token, now)
    except services.InvalidResetLink as error:
        return _no_store(make_response(render_template("accounts/reset_invalid.html", error=error), 400))
    form = PasswordResetForm(account_email=user.email)
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new_password.data, now)
        except services.InvalidResetLink as error:
            return _no_store(make_response(render_template("accounts/reset_invalid.html", error=error), 400))
        except DomainError as error:
            _show_error(form, error)
        else:
            logout_user()
            flash("Your password has been reset. Sign in with your new password.", "success")
            return redirect(url_for("accounts.login"))
    return _no_store(make_response(render_template("accounts/reset_password.html", form=form)))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            _, new_token = services.create_api_token(current_user.email, form.name.data, utcnow())
        except DomainError as error:
            _show_error(form, error)
        else:
            form = ApiTokenForm(formdata=None)
    tokens = services.list_api_tokens(current_user.id)
    page = render_template("accounts/tokens.html", form=form, tokens=tokens, new_token=new_token)
    return _no_store(make_response(page))


@bp.get("/account/tokens/<int:token_id>/revoke")
@login_required
def confirm_revoke_token(token_id: int):
    """Are you sure? (WCAG 3.3.4): a revoked token cannot be brought back. Its form posts to `revoke_token`."""
    token = services.get_api_token(current_user.id, token_id)
    if token.revoked_at is not None:
        flash(f"The token “{token.name}” has already been revoked.")
        return redirect(url_for("accounts.api_tokens"))
    return render_template("accounts/revoke_token.html", token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not RevokeApiTokenForm().validate_on_submit():
        abort(400)
    token = services.revoke_api_token(current_user.id, token_id, utcnow())
    flash(f"The token “{token.name}” has been revoked. Systems using it can no longer sign in with it.", "success")
    return redirect(url_for("accounts.api_tokens"))
