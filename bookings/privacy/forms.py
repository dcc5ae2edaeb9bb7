"""Forms for downloading your data and closing your account (GOV.UK widgets)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovPasswordInput, GovSubmitInput
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import InputRequired


class DownloadDataForm(FlaskForm):
    submit = SubmitField("Download your data", widget=GovSubmitInput())


class CloseAccountForm(FlaskForm):
    password = PasswordField(
        "Your password",
        widget=GovPasswordInput(),
        description="We ask for it so nobody else can close your account from a device you left signed in.",
        validators=[InputRequired("Enter your password")],
    )
    confirm = BooleanField(
        "I understand my account will be closed and my booking details removed",
        widget=GovCheckboxInput(),
        validators=[InputRequired("Confirm that you want to close your account")],
    )
    submit = SubmitField("Close my account", widget=GovSubmitInput())
