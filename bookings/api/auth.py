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
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Response, after_this_request, current_app, g, request

from bookings.accounts.models import User
from bookings.accounts.services.api_tokens import identify_api_token
from bookings.accounts.services.token_uses import owe_api_token_use, token_uses_due, write_token_uses
from bookings.core.clock import utcnow
from bookings.core.errors import DomainError, Forbidden

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
    if due_token_id is not None:  # written with the next write transaction of this process (token_uses)
        owe_api_token_use(due_token_id, now)
    after_this_request(_write_token_uses_if_due)


def _write_token_uses_if_due(response: Response) -> Response:
    if token_uses_due(current_app.config["API_TOKEN_USE_MAX_DELAY_SECONDS"]):
        try:
            write_token_uses()
        except Exception:  # a token's last use is a hint for people: never worth failing the answer
            log.exception("Could not note API tokens' use")
    return response


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
