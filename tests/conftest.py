"""Shared fixtures: the database backend (SQLite or a real PostgreSQL), the app, a client, a clock.

`--db=sqlite` (default) or `--db=postgresql`. PostgreSQL runs as a throwaway
cluster started here (RECIPES.md). A missing component skips locally but
fails when CI=true: nothing that needs a real component skips silently in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bookings import create_app
from bookings.core import clock as clock_module
from bookings.extensions import db

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgresql"], help="database backend")


def require(condition: bool, reason: str) -> None:
    """Skip when a real component is missing, except in CI, where that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure, not a skip)")
    pytest.skip(reason)  # reached only outside CI (CI=true failed above)


def pytest_collection_modifyitems(config, items):
    backend = config.getoption("--db")
    for item in items:
        if "postgres_only" in item.keywords and backend != "postgresql":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only: runs in the --db=postgresql pass"))


@pytest.fixture(scope="session")
def db_backend(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def pg_cluster(db_backend):
    """A PostgreSQL cluster for this test process (None on the SQLite pass)."""
    if db_backend != "postgresql":
        yield None
        return
    from tests.support.postgres import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster().start()
    except (PostgresUnavailable, OSError) as error:
        require(False, f"PostgreSQL unavailable: {error}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def database_url(db_backend, pg_cluster, tmp_path_factory) -> str:
    if db_backend == "postgresql":
        return pg_cluster.create_database("bookings_test")
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def _schema(database_url) -> Iterator[None]:
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    yield


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def _isolate_requests(app) -> None:
    """Give each test-client request a fresh `g`, as a real server does.

    The fixture keeps an app context open for the test's own database work;
    Flask reuses it for requests, so without this `g` (and Flask-Login's
    cached user in it) would leak from one request to the next.
    """

    @app.teardown_request
    def _clear_g(_error):
        from flask import g

        for name in list(vars(g)):
            delattr(g, name)


def _session_app(database_url: str, **overrides):
    """One app per test process: building one costs about half a second (URL rules, templates)."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    _isolate_requests(app)
    return app


@contextmanager
def _test_scope(app):
    """A fresh app context per test; config changes undone and every table emptied afterwards."""
    saved_config = dict(app.config)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()
    app.config.clear()
    app.config.update(saved_config)


@pytest.fixture(scope="session")
def _app_without_csrf(database_url, _schema):
    app = _session_app(database_url, WTF_CSRF_ENABLED=False)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def _app_with_csrf(database_url, _schema):
    app = _session_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_app_without_csrf):
    with _test_scope(_app_without_csrf) as app:
        yield app


@pytest.fixture
def csrf_app(_app_with_csrf):
    """An app with CSRF protection on, as in production."""
    with _test_scope(_app_with_csrf) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    fake = FakeClock(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    clock_module.set_clock(fake)
    yield fake
    clock_module.set_clock(None)


def login_as(client, user) -> None:
    """Sign a user in on a test client without going through the form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


from tests.fixtures_components import *  # noqa: E402, F403
