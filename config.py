"""Settings for development, test and production, read from the environment.

Every value that differs between machines comes from an environment variable;
production refuses to start without a real secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEV_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105  only ever used outside production


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _database_url(default_file: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / default_file}"
    # Hosted PostgreSQL often hands out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url("bookings.sqlite")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Site and organiser details (used in emails, invoices and calendar files).
    SITE_NAME = os.environ.get("SITE_NAME", "Bookings")
    ORGANISER_NAME = os.environ.get("ORGANISER_NAME", "Bookings Learning and Development")
    ORGANISER_EMAIL = os.environ.get("ORGANISER_EMAIL", "events@bookings.example")
    ORGANISER_ADDRESS = os.environ.get("ORGANISER_ADDRESS", "1 Civic Square, Exampleton, EX1 1AA")
    ORGANISER_VAT_NUMBER = os.environ.get("ORGANISER_VAT_NUMBER", "GB 123 4567 89")
    SERVER_NAME = os.environ.get("SERVER_NAME") or None
    # Base of links written outside a request (the sweep, mail delivery) when SERVER_NAME is unset.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host/-Port headers are trusted (nginx: 1).
    # 0 trusts none: without a proxy those headers come from the client and would let it forge links.
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)

    # Mail (delivered from the outbox by `flask bookings send-mail`).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Bookings <no-reply@bookings.example>")
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    # Days before an event starts that the sweep sends each person a reminder (once); 0 turns reminders off.
    REMINDER_DAYS_BEFORE = _int("REMINDER_DAYS_BEFORE", 2)

    # Stripe.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    # Checkout is a redirect to Stripe's hosted page, so no page here needs it; kept for clients and
    # tools that read the keys from one place (issue "Payments" names it).
    STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")

    # Booking policy defaults (an event may override them).
    HOLD_MINUTES = _int("HOLD_MINUTES", 30)
    OFFER_EXPIRY_HOURS = _int("OFFER_EXPIRY_HOURS", 48)
    MAX_LIVE_HOLDS_PER_USER = _int("MAX_LIVE_HOLDS_PER_USER", 5)
    # Unfinished (held) bookings one person may have on one event at once; the web replaces its own.
    MAX_LIVE_HOLDS_PER_EVENT_PER_USER = _int("MAX_LIVE_HOLDS_PER_EVENT_PER_USER", 2)

    # Privacy: `flask bookings anonymise` removes attendees' personal data this long after an event ends.
    ANONYMISE_AFTER_MONTHS = _int("ANONYMISE_AFTER_MONTHS", 12)
    # Hoarding: state-changing hold, booking and waiting-list requests allowed per person per window.
    BOOKING_RATE_LIMIT = _int("BOOKING_RATE_LIMIT", 30)
    BOOKING_RATE_WINDOW_SECONDS = _int("BOOKING_RATE_WINDOW_SECONDS", 600)
    # An API token's last use is written with the process's next write, or by a request that finds it
    # owed this long (bookings/accounts/services/token_uses.py).
    API_TOKEN_USE_MAX_DELAY_SECONDS = _int("API_TOKEN_USE_MAX_DELAY_SECONDS", 10)

    # Accounts.
    PASSWORD_RESET_MAX_AGE_SECONDS = _int("PASSWORD_RESET_MAX_AGE_SECONDS", 3600)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
    LOGIN_FAILURE_WINDOW_SECONDS = _int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
    REMEMBER_COOKIE_DURATION_DAYS = _int("REMEMBER_COOKIE_DURATION_DAYS", 30)

    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token instead
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 1024 * 1024

    CATALOGUE_PAGE_SIZE = 10

    # Public page cache (bookings/site/page_cache.py): whole answers for visitors who are not signed in.
    # At most this many seconds old (0 turns the cache off); each process rechecks the database's change
    # counter at most once per PUBLIC_CACHE_RECHECK_SECONDS (0: on every request it would answer from
    # memory, so a booking shows at once on every host); memory per process is bounded by the last.
    PUBLIC_CACHE_SECONDS = _int("PUBLIC_CACHE_SECONDS", 10)
    PUBLIC_CACHE_RECHECK_SECONDS = float(os.environ.get("PUBLIC_CACHE_RECHECK_SECONDS") or 0)
    PUBLIC_CACHE_MAX_BYTES = _int("PUBLIC_CACHE_MAX_BYTES", 16 * 1024 * 1024)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    PASSWORD_HASH_FAST = True  # cheap KDF parameters keep the suite quick
    MAIL_SERVER = ""  # tests that deliver mail start their own SMTP server
    PUBLIC_CACHE_SECONDS = 0  # tests see every change at once; tests/http/test_page_cache.py turns it on
    API_TOKEN_USE_MAX_DELAY_SECONDS = 0  # written after each request; test_token_uses.py turns it up


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https")


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """The settings class for `name`, or for BOOKINGS_ENV (default development)."""
    name = name or os.environ.get("BOOKINGS_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown BOOKINGS_ENV {name!r}; use one of {sorted(CONFIGS)}") from None
