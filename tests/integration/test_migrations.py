"""The Alembic history in migrations/ builds the schema the models describe, and takes it down again.

Runs against the backend of the pass: a fresh SQLite file with `--db=sqlite`,
a fresh database in the test PostgreSQL cluster with `--db=postgresql`.
"""

from __future__ import annotations

import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bookings import create_app
from bookings.extensions import db


@pytest.fixture
def empty_database_url(db_backend, pg_cluster, tmp_path):
    """A database nobody has touched: a new file, or a new PostgreSQL database dropped afterwards."""
    if db_backend == "postgresql":
        name = f"migrations_{uuid.uuid4().hex[:12]}"
        yield pg_cluster.create_database(name)
        pg_cluster.drop_database(name)
    else:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"


@pytest.fixture
def migration_app(empty_database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _tables() -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_creates_every_model_table(migration_app):
    assert _tables() == set()

    flask_migrate.upgrade()

    assert _tables() == set(db.metadata.tables)


def test_schema_after_upgrade_matches_the_models(migration_app):
    flask_migrate.upgrade()

    differences = _differences()

    assert differences == [], (
        "The migrations are behind the models; generate a new revision "
        "(flask --app wsgi db migrate -m '...'). Differences:\n" + "\n".join(map(repr, differences))
    )


def test_downgrade_to_base_removes_every_table(migration_app):
    flask_migrate.upgrade()

    flask_migrate.downgrade(revision="base")

    assert _tables() == set()


def test_upgrade_after_downgrade_rebuilds_the_schema(migration_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")

    flask_migrate.upgrade()

    assert _tables() == set(db.metadata.tables)
