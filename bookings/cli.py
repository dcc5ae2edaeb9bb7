"""`flask --app wsgi bookings ...`: the operator's commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from bookings.core.clock import utcnow
from bookings.core.errors import DomainError

bookings_cli = AppGroup("bookings", help="Bookings administration commands.")


@bookings_cli.command("create-admin")
@click.argument("email")
@click.option("--password", required=True, help="At least 12 characters.")
@click.option("--name", default="Administrator", show_default=True)
def create_admin_command(email: str, password: str, name: str) -> None:
    """Create an admin account, or make an existing account an admin with this password."""
    from bookings.accounts.services import create_admin

    try:
        user = create_admin(email=email, password=password, name=name, now=utcnow())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Admin {user.email} is ready.")


@bookings_cli.command("create-token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A name to recognise the token by.")
def create_token_command(email: str, name: str) -> None:
    """Create an API token for EMAIL. The token is printed once, alone on the last line."""
    from bookings.accounts.services import create_api_token

    try:
        _, token = create_api_token(email=email, name=name, now=utcnow())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo("Keep this token secret; it is shown only once:", err=True)
    click.echo(token)


@bookings_cli.command("demo-data")
@click.option("--reset", is_flag=True, help="Delete existing events first (development only).")
def demo_data_command(reset: bool) -> None:
    """Load a realistic demo catalogue and demo accounts (idempotent)."""
    from bookings.demo import load_demo_data

    summary = load_demo_data(now=utcnow(), reset=reset)
    for line in summary:
        click.echo(line)


@bookings_cli.command("sweep")
def sweep_command() -> None:
    """Expire holds and offers, send new offers and due mail. Safe to run every minute on many hosts."""
    from bookings.sweep import run_sweep

    counts = run_sweep(now=utcnow())
    click.echo(" ".join(f"{key}={value}" for key, value in counts.items()))


@bookings_cli.command("send-mail")
@click.option("--limit", default=500, show_default=True)
def send_mail_command(limit: int) -> None:
    """Deliver due messages from the outbox over SMTP."""
    from bookings.notifications.outbox import deliver_pending

    counts = deliver_pending(utcnow(), limit=limit)
    click.echo(f"sent={counts['sent']} failed={counts['failed']}")


@bookings_cli.command("anonymise")
@click.option(
    "--months",
    type=int,
    default=None,
    help="Anonymise attendees of events that ended more than this many months ago (default: ANONYMISE_AFTER_MONTHS).",
)
def anonymise_command(months: int | None) -> None:
    """Remove attendees' personal data from old events, keeping places and money. Safe to run daily."""
    from flask import current_app

    from bookings.privacy.services import anonymise_old_bookings

    months = current_app.config["ANONYMISE_AFTER_MONTHS"] if months is None else months
    try:
        report = anonymise_old_bookings(now=utcnow(), months=months)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"events={report.events} bookings={report.bookings} attendees={report.attendees} "
        f"messages={report.messages} (events that ended more than {months} months ago)"
    )
