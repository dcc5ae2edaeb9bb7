"""One hierarchy of domain errors, each with a code, a message and an HTTP status.

Services raise these; the edge (a blueprint's error handler) turns them into a
GOV.UK error summary or a JSON body `{"error": code, "message": ...}`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. `code` is stable for API clients; `message` is for people."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class ValidationError(DomainError):
    """Input that cannot be accepted; `errors` maps field names to messages."""

    code = "invalid"
    status = 422

    def __init__(self, message: str, *, errors: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors = errors or ({kwargs["field"]: message} if kwargs.get("field") else {})

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.errors:
            body["errors"] = self.errors
        return body


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The request is valid but the state of things does not allow it now."""

    code = "conflict"
    status = 409


class SoldOut(Conflict):
    code = "sold_out"

    def __init__(self, message: str, *, places_left: int, **kwargs: Any):
        super().__init__(message, places_left=places_left, **kwargs)
        self.places_left = places_left


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


class Busy(DomainError):
    """The database stayed contended after every retry; safe to try again."""

    code = "busy"
    status = 503
