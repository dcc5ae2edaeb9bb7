"""Static pages, health checks and the security headers every response carries."""

from __future__ import annotations

import ast
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bookings.extensions import db
from bookings.site.templating import inline_script_hashes
from config import BASE_DIR

bp = Blueprint("site", __name__)


def _checkout_origins() -> str:
    """Where the review form may send the booker: Stripe Checkout, or the configured Stripe-compatible server."""
    origins = ["https://checkout.stripe.com"]
    base = current_app.config.get("STRIPE_API_BASE") or ""
    parts = urlsplit(base)
    if parts.scheme in ("http", "https") and parts.netloc:
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(origins)


@bp.after_app_request
def _security_headers(response):
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' {' '.join(inline_script_hashes())}; "
        "style-src 'self'; img-src 'self' data:; font-src 'self'; "
        f"form-action 'self' {_checkout_origins()}; "
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("ENV_NAME") == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.get("/healthz")
def healthz():
    """The process answers (a load balancer's liveness check; touches nothing else)."""
    return {"status": "ok"}


@lru_cache(maxsize=1)
def _migration_heads() -> frozenset[str]:
    """The Alembic head revision(s) in migrations/ (read once per process: the code cannot change under it).

    Read from the revision files' `revision` and `down_revision` assignments rather than through Alembic,
    which serving processes do not load (wsgi.py); tests/http/test_health.py checks it agrees with Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (BASE_DIR / "migrations" / "versions").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            if not isinstance(target, ast.Name) or target.id not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(node.value)
            if target.id == "revision":
                revisions.add(value)
            elif value:
                parents.update([value] if isinstance(value, str) else value)
    return frozenset(revisions - parents)


@bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers and its schema is at the migrations' head.

    Uses its own connection, not the request's session, so a failure here leaves nothing half-open.
    """
    heads = _migration_heads()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            try:
                current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
            except SQLAlchemyError:
                current = set()
    except SQLAlchemyError:
        current_app.logger.warning("readyz: the database does not answer", exc_info=True)
        return {"error": "not_ready", "message": "The database does not answer.", "database": "unavailable"}, 503
    if current != heads:
        return {
            "error": "not_ready",
            "message": "The database schema is not at the migrations' head: run `flask db upgrade`.",
            "database": "ok",
            "migrations": {"database": sorted(current), "code": sorted(heads)},
        }, 503
    return {"status": "ready", "database": "ok", "migrations": sorted(heads)}
