"""Forms for signing in, registering, passwords and API tokens (GOV.UK widgets).

Field checks call the same `policy` functions the services use, so a form
shows every problem at once and the service refuses the same input alike.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from bookings.accounts import policy
from bookings.accounts.models import SECTOR_LABELS


def _check(problem_of: Callable[[str | None], str | None]):
    """A WTForms validator from a policy check."""

    def validator(form, field):
        problem = problem_of(field.data)
        if problem:
            raise StopValidation(problem)

    return validator


def _required(message: str):
    def validator(form, field):
        if not (field.data or "").strip():
            raise StopValidation(message)

    return validator


def _new_password(email_field: str | None = None, email: Callable[[FlaskForm], str | None] | None = None):
    def validator(form, field):
        address = form[email_field].data if email_field else (email(form) if email else None)
        problem = policy.password_problem(field.data, email=address)
        if problem:
            raise StopValidation(problem)

    return validator


class SignInForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput(), validators=[_required("Enter your email address")])
    password = PasswordField("Password", widget=GovPasswordInput(), validators=[_required("Enter your password")])
    remember = BooleanField("Keep me signed in on this device", widget=GovCheckboxInput())  # the page adds how long
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class RegisterForm(FlaskForm):
    name = StringField("Full name", widget=GovTextInput(), validators=[_check(policy.name_problem)])
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="We will send booking confirmations to this address.",
        validators=[_check(policy.email_problem)],
    )
    organisation = StringField("Organisation", widget=GovTextInput(), validators=[_check(policy.organisation_problem)])
    sector = RadioField(
        "Which sector do you work in?",
        widget=GovRadioInput(),
        description="We use this to offer you the right rates.",
        choices=[SelectChoice(sector.value, label) for sector, label in SECTOR_LABELS.items()],
        validate_choice=False,  # policy gives the GOV.UK-style message instead of WTForms' own
        validators=[_check(policy.sector_problem)],
    )
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        description="At least 12 characters. A good way to make a strong password is to use three random words.",
        validators=[_new_password(email_field="email")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class PasswordResetRequestForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput(), validators=[_check(policy.email_problem)])
    submit = SubmitField("Send reset link", widget=GovSubmitInput())


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="At least 12 characters. A good way to make a strong password is to use three random words.",
        validators=[_new_password(email=lambda form: form.account_email)],
    )
    submit = SubmitField("Set new password", widget=GovSubmitInput())

    def __init__(self, *args, account_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", widget=GovPasswordInput(), validators=[_required("Enter your current password")]
    )
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        description="At least 12 characters. Changing it signs you out on every other device.",
        validators=[_new_password(email=lambda form: form.account_email)],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())

    def __init__(self, *args, account_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Token name",
        widget=GovTextInput(),
        description="Something to recognise it by, like the system that will use it.",
        validators=[_check(policy.token_name_problem)],
    )
    submit = SubmitField("Create token", widget=GovSubmitInput())


class RevokeApiTokenForm(FlaskForm):
    """Only the CSRF token: revoking is a POST with no other input."""
