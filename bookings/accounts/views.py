"""Register, sign in and out, password reset and change, account page."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("accounts", __name__)


@bp.get("/sign-in")
def login():
    return render_template("accounts/login.html")


@bp.get("/register")
def register():
    return render_template("accounts/register.html")


@bp.post("/sign-out")
def logout():
    return ""


@bp.get("/account")
def account():
    return ""
