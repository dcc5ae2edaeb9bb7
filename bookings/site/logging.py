"""Request logs: a request id on every log line, one JSON line per request, no personal data.

Each request gets an id (the proxy's `X-Request-ID` when it is well formed,
else a new one), echoed in the response. Every log record written while the
request is handled carries it as `record.request_id` (a log record factory,
so it reaches every handler, caplog's included). When the request ends one
line goes to the `bookings.request` logger: method, route, status, duration
and request id.

What is never logged: query strings, bodies, headers, addresses, and the
concrete path where it holds a token (a password-reset link, a calendar feed):
the line names the matched route (`/password-reset/<token>`) instead. The
JSON formatter (used by deploy/gunicorn.conf.py) also hides email addresses
and SQL parameters in messages and stack traces.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_LOGGER = "bookings.request"
UNMATCHED_ROUTE = "(no route)"
_ENVIRON_KEY = "bookings.request_id_token"

_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_EMAIL = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,}")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\n|$)", re.DOTALL)

_current_request_id: ContextVar[str | None] = ContextVar("bookings_request_id", default=None)
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    return _current_request_id.get()


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    """Stamp log records written inside the block with this request id (for answers made outside Flask)."""
    token = _current_request_id.set(request_id)
    try:
        yield
    finally:
        _current_request_id.reset(token)


def init_request_logging(app: Flask) -> None:
    """Give each request an id, stamp it on every log record, and log one line per request."""
    _install_record_factory()

    # Registered before any extension's hooks, so the id exists even when CSRF or a rate limit answers first.
    @app.before_request
    def _start_request() -> None:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = supplied if _WELL_FORMED_ID.fullmatch(supplied) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        request.environ[_ENVIRON_KEY] = _current_request_id.set(g.request_id)

    @app.after_request
    def _log_request(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id is None:  # a before_request hook ahead of ours answered
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        logging.getLogger(REQUEST_LOGGER).info(
            "request",
            extra={
                "method": request.method,
                "path": request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
            },
        )
        return response

    @app.teardown_request
    def _end_request(_error: BaseException | None) -> None:
        token = request.environ.pop(_ENVIRON_KEY, None)
        if token is not None:
            _current_request_id.reset(token)


_factory_installed = False


def _install_record_factory() -> None:
    """Wrap the process's log record factory once, so every record gets `request_id` (None outside requests)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _current_request_id.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def scrub(text: str) -> str:
    """Hide email addresses and SQL parameters (IntegrityError messages quote the row's values)."""
    return _EMAIL.sub("<email>", _SQL_PARAMETERS.sub("[parameters hidden]", text))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extra fields, stack trace."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value if isinstance(value, int | float | bool) or value is None else scrub(str(value))
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False)
