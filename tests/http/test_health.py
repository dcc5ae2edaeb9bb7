"""/healthz says the process answers; /readyz says the database answers and its schema is current."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bookings import create_app
from bookings.extensions import db
from bookings.site.views import _migration_heads
from tests.support.ports import free_port


@pytest.fixture
def alembic_version(app):
    """An alembic_version table like `flask db upgrade` leaves (the test schema comes from create_all)."""
    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    db.session.commit()

    def stamp(revision: str) -> None:
        db.session.execute(text("DELETE FROM alembic_version"))
        db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})
        db.session.commit()

    yield stamp
    db.session.rollback()
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_answers_200_when_the_schema_is_at_the_migrations_head(client, alembic_version):
    (head,) = _migration_heads()
    alembic_version(head)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok", "migrations": [head]}


def test_readyz_answers_503_when_the_database_is_behind_the_migrations(client, alembic_version):
    alembic_version("0000_older")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "not_ready"
    assert body["migrations"]["database"] == ["0000_older"]


def test_readyz_answers_503_when_the_database_was_never_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"]["database"] == []


def test_readyz_answers_503_when_the_database_does_not_answer():
    nobody_listens = free_port()
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{nobody_listens}/none")
    with app.app_context():
        response = app.test_client().get("/readyz")
        db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "not_ready",
        "message": "The database does not answer.",
        "database": "unavailable",
    }


def test_healthz_answers_even_when_the_database_does_not():
    nobody_listens = free_port()
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{nobody_listens}/none")
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.engine.dispose()
    assert response.status_code == 200


@pytest.fixture
def app_without_database():
    nobody_listens = free_port()
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{nobody_listens}/none")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_an_api_request_while_the_database_is_down_answers_503_busy(app_without_database):
    response = app_without_database.test_client().get("/api/v1/events")
    assert response.status_code == 503
    assert response.get_json()["error"] == "busy"
    assert response.headers["Retry-After"] == "5"


def test_a_page_while_the_database_is_down_answers_503(app_without_database):
    response = app_without_database.test_client().get("/")
    assert response.status_code == 503
    assert "try again in a moment" in response.text


def test_readyz_reads_the_same_heads_from_the_revision_files_as_alembic():
    from alembic.script import ScriptDirectory

    from config import BASE_DIR

    assert _migration_heads() == frozenset(ScriptDirectory(str(BASE_DIR / "migrations")).get_heads())
