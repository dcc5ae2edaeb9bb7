"""Whole public pages kept in each process's memory for visitors who are not signed in.

Most requests for the catalogue, an event page and `GET /api/v1/events` come from people (and
crawlers) without a session, and every one of them would see the same bytes. This layer sits in
front of Flask (WSGI middleware) and answers such a request from memory when an earlier answer to
the same URL is still good, without a session, a template or a query.

When an answer is still good:
- **Data changes are seen at once.** Every committed write to a table shown on public pages
  (`PUBLIC_TABLES`: events, sessions, rates, bookings, attendees, waiting-list entries) moves a
  counter in the database (`public_generation`) with or just after its commit. An answer is stored
  with the counter's value read *before* the page was built, and is served only while the counter
  still has that value. Each process reads the counter on every request it would answer from
  memory (`PUBLIC_CACHE_RECHECK_SECONDS`, default 0: one small read; an operator may trade
  exactness for fewer reads), so every host sees every other host's changes.
- **Holds and offers that run out are seen at once.** A hold or a waiting-list offer counts against
  places until its expiry, and stops counting then without any write. An answer is served only
  before the next such expiry known when it was built (`next_lapse`: one read per counter value).
- **Other time-driven changes within `PUBLIC_CACHE_SECONDS`.** A sale window opening or closing
  changes a page without any write; no answer is served more than this many seconds (default 10)
  after it was built, by the app's clock.
- Only `GET` requests without a session or remember-me cookie and without an `Authorization` header
  are answered from memory; only answers of views marked `@public_page`, with status 200 and no
  `Set-Cookie`, are stored. Signed-in people always get a page built for them.

Each answer served from memory still gets its own request id and its JSON log line. The memory used
is bounded by `PUBLIC_CACHE_MAX_BYTES` per process (least recently used answers go first).
`PUBLIC_CACHE_SECONDS = 0` turns the layer off (the test configuration does, except in the tests of
this module).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Flask, request
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bookings.core.clock import utcnow
from bookings.extensions import db
from bookings.site.logging import REQUEST_ID_HEADER, REQUEST_LOGGER, bind_request_id
from bookings.site.page_counter import counter_connection, install_session_hooks, next_lapse, track_public_writes

log = logging.getLogger(__name__)

_PUBLIC = "bookings.public_page"  # in the WSGI environ: the view allows its answer to be stored
CACHE_HEADER = "X-Bookings-Cache"
_HOP_HEADERS = {REQUEST_ID_HEADER.lower(), "date", "server", "connection", "keep-alive", "transfer-encoding"}


def public_page(view: Callable) -> Callable:
    """Mark a view whose answer is the same for every visitor who is not signed in."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        request.environ[_PUBLIC] = request.url_rule.rule if request.url_rule is not None else request.path
        return view(*args, **kwargs)

    return wrapper


# --- the cache --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    rule: str
    generation: int
    built_at: datetime
    valid_until: datetime | None = None  # the next hold or offer to run out when it was built

    @property
    def etag(self) -> str | None:
        """The quoted ETag the view gave the answer, if any (a matching If-None-Match gets a 304)."""
        return next((value for name, value in self.headers if name.lower() == "etag"), None)


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the app must return its body, not write() it")


class PageCache:
    """Answers by key, least recently used first out, bounded in bytes; safe across threads."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: str, answer: Answer) -> None:
        size = len(answer.body)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._answers[key] = answer
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.body)

    def discard(self, key: str) -> None:
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)

    def __len__(self) -> int:
        return len(self._answers)


class PublicPageMiddleware:
    """WSGI middleware answering anonymous GETs of public pages from a PageCache."""

    def __init__(self, wsgi_app: Callable, flask_app: Flask, engine: Engine):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.engine = engine
        self.cache = PageCache(int(flask_app.config["PUBLIC_CACHE_MAX_BYTES"]))
        self.counter = counter_connection(engine)
        self._generation = 0
        self._checked_at = float("-inf")
        self._lapse: tuple[int, datetime | None] | None = None  # (counter, next_lapse) as last read
        self._lock = threading.Lock()
        self._cookie_names = tuple(
            f"{name}=".encode("latin-1")
            for name in (
                flask_app.config["SESSION_COOKIE_NAME"],
                flask_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
            )
        )

    # How old an answer may be, read per request so tests and operators can change them on a live app.
    @property
    def max_age(self) -> float:
        return float(self.flask_app.config["PUBLIC_CACHE_SECONDS"] or 0)

    @property
    def recheck(self) -> float:
        return float(self.flask_app.config["PUBLIC_CACHE_RECHECK_SECONDS"] or 0)

    def generation(self, *, fresh: bool = False) -> int:
        now = time.monotonic()
        if fresh or now - self._checked_at >= self.recheck:
            value = self.counter.read()
            with self._lock:
                self._generation, self._checked_at = value, now
            return value
        return self._generation

    def valid_until(self, generation: int, now: datetime) -> datetime | None:
        """The next hold or offer to run out after `now`, read again only when the counter moves or it passes."""
        known = self._lapse
        if known is not None and known[0] == generation and (known[1] is None or now < known[1]):
            return known[1]
        moment = next_lapse(self.engine, now)
        with self._lock:
            self._lapse = (generation, moment)
        return moment

    def _key(self, environ: dict) -> str | None:
        if self.max_age <= 0 or environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_AUTHORIZATION"):
            return None
        cookies = environ.get("HTTP_COOKIE", "").encode("latin-1", "replace")
        if any(name in cookies for name in self._cookie_names):
            return None
        return "{}://{}{}{}?{}".format(
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        try:
            generation = self.generation()
        except SQLAlchemyError:  # the database does not answer: let the app say so (503 busy)
            return self.wsgi_app(environ, start_response)
        answer = self.cache.get(key)
        if answer is not None:
            now = utcnow()
            age = (now - answer.built_at).total_seconds()
            lasts = answer.valid_until is None or now < answer.valid_until
            if answer.generation == generation and 0 <= age < self.max_age and lasts:
                return self._serve(answer, environ, start_response, started)
            self.cache.discard(key)
        return self._build(key, environ, start_response)

    def _serve(self, answer: Answer, environ: dict, start_response: Callable, started: float) -> list[bytes]:
        request_id = uuid.uuid4().hex
        status, headers, body = answer.status, answer.headers, answer.body
        if answer.etag and answer.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            status, body = "304 NOT MODIFIED", b""
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-length", "content-type")]
        start_response(status, [*headers, (REQUEST_ID_HEADER, request_id), (CACHE_HEADER, "hit")])
        with bind_request_id(request_id):
            logging.getLogger(REQUEST_LOGGER).info(
                "request",
                extra={
                    "method": "GET",
                    "path": answer.rule,
                    "status": int(status.split(" ", 1)[0]),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "cache": "hit",
                },
            )
        return [body]

    def _build(self, key: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        # Read before the page is built: the page is then at least as new as the value it is stored under.
        generation = self.generation(fresh=True)
        built_at = utcnow()
        try:
            valid_until = self.valid_until(generation, built_at)
        except SQLAlchemyError:  # the database does not answer: let the app say so, and store nothing
            return self.wsgi_app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info=None):
            # Only recorded: the real start_response is called below, once the answer is known to be storable.
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured.update(status=status, headers=headers)
            return _no_write

        body_iter = self.wsgi_app(environ, capture)
        status, headers = captured.get("status", ""), captured.get("headers", [])
        storable = (
            environ.get(_PUBLIC)
            and status.startswith("200")
            and not any(name.lower() == "set-cookie" for name, _ in headers)
        )
        if not storable:
            start_response(status, [*headers, (CACHE_HEADER, "miss")] if environ.get(_PUBLIC) else headers)
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        kept = [(name, value) for name, value in headers if name.lower() not in _HOP_HEADERS]
        rule = environ.get(_PUBLIC) if isinstance(environ.get(_PUBLIC), str) else environ.get("PATH_INFO", "")
        self.cache.put(key, Answer(status, kept, body, rule, generation, built_at, valid_until))
        start_response(status, [*headers, (CACHE_HEADER, "miss")])
        return [body]


def init_page_cache(app: Flask) -> None:
    """Install the counter's listeners, and the middleware when the cache is on."""
    with app.app_context():
        engine = db.engine
    track_public_writes(engine)
    install_session_hooks()
    app.wsgi_app = PublicPageMiddleware(app.wsgi_app, app, engine)


def current_generation(app: Flask) -> int | None:
    """The counter as this process last read it (at most PUBLIC_CACHE_RECHECK_SECONDS old), or None
    when the cache is off: for other memos that must forget what they know when public data changes."""
    layer = middleware(app)
    if layer is None or layer.max_age <= 0:
        return None
    return layer.generation()


def middleware(app: Flask) -> PublicPageMiddleware | None:
    """The app's cache layer (for tests and the admin console), wherever it sits in the WSGI stack."""
    layer = app.wsgi_app
    while layer is not None and not isinstance(layer, PublicPageMiddleware):
        layer = getattr(layer, "app", None) or getattr(layer, "wsgi_app", None)
    return layer
