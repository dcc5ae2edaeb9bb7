"""Bearer-token authentication for the API: `Authorization: Bearer <token>`, nothing else.

Cookies never authorise the API (so no CSRF token is needed here): a browser
session is ignored. Every request is looked at once, before its view: no
header means an anonymous caller, a header with a bad token is refused at
once (401 with `WWW-Authenticate: Bearer`), a good one sets `g.api_user`.
Views then ask for what they need with `@require_user` or `@require_admin`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial, wraps
from typing import ParamSpec, TypeVar

from flask import Response, after_this_request, g, request

from bookings.accounts.models import User
from bookings.accounts.services.api_tokens import identify_api_token, note_api_token_use
from bookings.core.clock import utcnow
from bookings.core.db import run_with_next_write, take_pending_writes, transactional
from bookings.core.errors import DomainError, Forbidden
from bookings.core.ratelimit import SAFE_METHODS

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

REALM = "bookings"


class Unauthorised(DomainError):
    """No usable bearer token. `challenge` goes into the WWW-Authenticate header."""

    code = "unauthorised"
    status = 401

    def __init__(self, message: str, *, invalid_token: bool = False):
        super().__init__(message)
        self.challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid_token else "")


def authenticate_request() -> None:
    """Set `g.api_user` from the Authorization header (None without one); refuse a bad one."""
    g.api_user = None
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorised("Send your API token as 'Authorization: Bearer <token>'.")
    now = utcnow()
    found = identify_api_token(token, now)
    if found is None:
        raise Unauthorised("The API token is not valid or has been revoked.", invalid_token=True)
    g.api_user, due_token_id = found
    if due_token_id is None:
        return
    if request.method in SAFE_METHODS:  # never rate limited: noted now, in a transaction of its own
        _run_writes([partial(note_api_token_use, due_token_id, now)])
        return
    # A change: noted in the request's first write transaction, or after the view if it makes none.
    run_with_next_write(partial(note_api_token_use, due_token_id, now), required=True)
    after_this_request(_run_pending_writes)


def _run_pending_writes(response: Response) -> Response:
    writes = take_pending_writes()
    if writes:
        try:
            _run_writes(writes)
        except Exception:  # a token's last use is a hint for people: never worth failing the answer
            log.exception("Could not note an API token's use")
    return response


@transactional(durable=False)  # a last use lost in a crash harms nothing
def _run_writes(writes: list[Callable[[], None]]) -> None:
    for write in writes:
        write()


def api_user() -> User | None:
    return g.get("api_user")


def is_admin() -> bool:
    user = api_user()
    return user is not None and user.is_admin


def require_user(view: Callable[P, T]) -> Callable[P, T]:
    """Any signed-in API user: 401 without a token."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if api_user() is None:
            raise Unauthorised("This needs an API token: send 'Authorization: Bearer <token>'.")
        return view(*args, **kwargs)

    return wrapper


def require_admin(view: Callable[P, T]) -> Callable[P, T]:
    """Admins only: 401 without a token, 403 with another user's."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if api_user() is None:
            raise Unauthorised("This needs an API token: send 'Authorization: Bearer <token>'.")
        if not is_admin():
            raise Forbidden("Only an administrator can do this.")
        return view(*args, **kwargs)

    return wrapper
