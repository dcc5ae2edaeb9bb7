"""Request logs: one JSON line per request, the request id on every record, stack traces, no personal data."""

from __future__ import annotations

import json
import logging

import pytest

from bookings import create_app
from bookings.extensions import db
from bookings.site.logging import REQUEST_LOGGER, JsonFormatter, scrub


@pytest.fixture
def logging_app(app, database_url):
    """A fresh app (the shared one cannot take new routes) with a route that logs and one that fails."""
    fresh = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)

    @fresh.get("/_test/log")
    def _logs():
        logging.getLogger("bookings.something").info("working on it")
        return "ok"

    @fresh.get("/_test/boom")
    def _boom():
        return 1 // 0

    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == REQUEST_LOGGER]


def test_each_request_writes_one_line_with_method_route_status_duration_and_id(client, caplog):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    response = client.get("/healthz")
    (line,) = _request_lines(caplog)
    assert (line.method, line.path, line.status) == ("GET", "/healthz", 200)
    assert line.duration_ms >= 0
    assert line.request_id == response.headers["X-Request-ID"]
    body = json.loads(JsonFormatter().format(line))
    assert body["message"] == "request"
    assert {body["method"], body["path"], body["status"], body["request_id"]} == {
        "GET",
        "/healthz",
        200,
        line.request_id,
    }


def test_a_well_formed_request_id_from_the_proxy_is_kept_and_echoed(client, caplog):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    response = client.get("/healthz", headers={"X-Request-ID": "nginx-5f1c2a"})
    assert response.headers["X-Request-ID"] == "nginx-5f1c2a"
    assert _request_lines(caplog)[0].request_id == "nginx-5f1c2a"


def test_a_malformed_request_id_is_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    response = client.get("/healthz", headers={"X-Request-ID": 'x" injected\\n' * 10})
    assert response.headers["X-Request-ID"] != 'x" injected\\n' * 10
    assert len(response.headers["X-Request-ID"]) == 32


def test_records_logged_while_handling_a_request_carry_its_id(logging_app, caplog):
    caplog.set_level(logging.INFO)
    response = logging_app.test_client().get("/_test/log", headers={"X-Request-ID": "abc123"})
    (inner,) = [record for record in caplog.records if record.name == "bookings.something"]
    assert inner.request_id == "abc123" == response.headers["X-Request-ID"]


def test_records_logged_after_the_request_carry_no_id(logging_app, caplog):
    caplog.set_level(logging.INFO)
    logging_app.test_client().get("/_test/log", headers={"X-Request-ID": "abc123"})
    logging.getLogger("bookings.something").info("between requests")
    assert caplog.records[-1].request_id is None


def test_an_error_is_logged_with_its_stack_trace_and_request_id(logging_app, caplog):
    caplog.set_level(logging.INFO)
    response = logging_app.test_client().get("/_test/boom", headers={"X-Request-ID": "boom1"})
    assert response.status_code == 500
    (error,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    body = json.loads(JsonFormatter().format(error))
    assert body["request_id"] == "boom1"
    assert "Traceback" in body["exception"] and "ZeroDivisionError" in body["exception"]
    (line,) = _request_lines(caplog)
    assert (line.path, line.status, line.request_id) == ("/_test/boom", 500, "boom1")


def test_the_request_line_holds_no_query_string_and_no_token_from_the_path(client, caplog):
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    client.get("/password-reset/secret-reset-token-value?email=ann@council.example")
    client.get("/no-such-page/ann@council.example")
    text = "\n".join(JsonFormatter().format(record) for record in _request_lines(caplog))
    assert "secret-reset-token-value" not in text
    assert "council.example" not in text
    assert [record.path for record in _request_lines(caplog)] == ["/password-reset/<token>", "(no route)"]


def test_the_formatter_hides_email_addresses_and_sql_parameters():
    trace = (
        "IntegrityError: duplicate key value violates unique constraint\n"
        "[SQL: INSERT INTO user (email) VALUES (%(email)s)]\n"
        "[parameters: {'email': 'ann@council.example', 'name': 'Ann Smith'}]\n"
        "Key (email)=(ann@council.example) already exists."
    )
    cleaned = scrub(trace)
    assert "ann@council.example" not in cleaned
    assert "Ann Smith" not in cleaned
    assert "[SQL: INSERT INTO user (email) VALUES (%(email)s)]" in cleaned
