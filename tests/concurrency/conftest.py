"""Concurrency tests run each race against its own committed database, in several OS processes."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest

from bookings import create_app
from bookings.extensions import db


@pytest.fixture
def race_db(db_backend, pg_cluster, tmp_path):
    """A fresh database URL (schema created) shared by the processes of one race."""
    if db_backend == "postgresql":
        name = f"race_{uuid.uuid4().hex[:10]}"
        url = pg_cluster.create_database(name)
    else:
        url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    yield url
    if db_backend == "postgresql":
        pg_cluster.drop_database(name)


@pytest.fixture
def mp():
    """Forked processes: cheap to start; each builds its own app and engine."""
    return multiprocessing.get_context("fork")
