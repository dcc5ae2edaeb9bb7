"""The app factory: extensions, blueprints, error handlers and CLI; nothing else."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.routing import IntegerConverter

from bookings.extensions import csrf, db, login_manager
from bookings.site.logging import init_request_logging
from bookings.site.page_cache import init_page_cache
from bookings.site.text_guard import init_text_guard
from config import BASE_DIR, DEV_SECRET_KEY, INSTANCE_DIR, Config, config_for


def create_app(config: str | type[Config] | None = None, **overrides: object) -> Flask:
    """Build the app for a named config ('development', 'test', 'production') or a config class."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    # Before anything touches app.jinja_env (extensions add globals to it).
    app.jinja_options = {**app.jinja_options, "bytecode_cache": _BYTECODE_CACHE}
    config_class = config if isinstance(config, type) else config_for(config)
    app.config.from_object(config_class)
    app.config.update(overrides)
    _refuse_insecure_secret(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    init_request_logging(app)  # first: its before_request hook must run ahead of the extensions'
    _init_extensions(app)
    init_page_cache(app)
    init_text_guard(app)  # before any view or query: text PostgreSQL cannot hold stops here
    if hops := int(app.config.get("PROXY_FIX_HOPS") or 0):  # outermost: the cache keys on the real scheme and host
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    _init_templates(app)
    app.url_map.converters["int"] = _IdConverter
    _register_blueprints(app)
    _register_cli(app)
    return app


def _refuse_insecure_secret(app: Flask) -> None:
    secret = app.config.get("SECRET_KEY") or ""
    if app.config.get("ENV_NAME") == "production" and (len(secret) < 32 or secret == DEV_SECRET_KEY):
        raise RuntimeError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if not secret:
        raise RuntimeError("SECRET_KEY is not set.")


def _init_extensions(app: Flask) -> None:
    from bookings.core.db import configure_engine, end_session_quietly

    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown (session.remove), so it runs first (last in, first out).
    app.teardown_appcontext(end_session_quietly)
    with app.app_context():
        configure_engine(db.engine)
    if app.config.get("MIGRATE_COMMANDS", True):
        # Flask-Migrate brings Alembic (about 25 MB per process): only the `flask db ...` commands need it,
        # so wsgi.py leaves it out of the processes that serve requests.
        from bookings.extensions import migrate

        migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"

    # Every model must be imported before migrations or create_all look at the metadata.
    from bookings import models  # noqa: F401


class _IdConverter(IntegerConverter):
    """`<int:...>` in URLs, bounded to the database's integer range: a larger id is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app in the process (keyed by name and source checksum).

    Compiling the GOV.UK macros costs seconds; a worker or a test run builds
    more than one app, and each would otherwise compile them again.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _ProcessBytecodeCache()


def _init_templates(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(BASE_DIR / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    from bookings.site.templating import register_template_helpers

    register_template_helpers(app)


def _register_blueprints(app: Flask) -> None:
    from bookings.accounts import auth  # noqa: F401  registers the user loader
    from bookings.accounts.views import bp as accounts_bp
    from bookings.admin import bp as admin_bp
    from bookings.api import bp as api_bp
    from bookings.booking.views import bp as booking_bp
    from bookings.calendar.views import bp as calendar_bp
    from bookings.catalogue.views import bp as catalogue_bp
    from bookings.payments.views import bp as payments_bp
    from bookings.privacy.views import bp as privacy_bp
    from bookings.site.views import bp as site_bp
    from bookings.waitlist.views import bp as waitlist_bp

    app.register_blueprint(site_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(waitlist_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)

    from bookings.site.errors import register_error_handlers

    register_error_handlers(app)


def _register_cli(app: Flask) -> None:
    from bookings.cli import bookings_cli

    app.cli.add_command(bookings_cli)
