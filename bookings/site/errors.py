"""Errors at the edge: JSON `{"error", "message"}` under /api and /webhooks, GOV.UK pages elsewhere."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from bookings.core.errors import DomainError

JSON_PREFIXES = ("/api/", "/webhooks/")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "server_error",
    503: "busy",
}


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": code, "message": message, **extra}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if wants_json():
            return jsonify(error.to_dict()), error.status
        return render_template("errors/domain.html", error=error), error.status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        if wants_json():
            return json_error(400, "csrf_failed", error.description)
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        # The exception's own headers (a 405's Allow, a 401's WWW-Authenticate), not its HTML content type.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        if wants_json():
            response, _ = json_error(status, HTTP_CODES.get(status, "error"), error.description or error.name)
            return response, status, headers
        template = f"errors/{status}.html" if status in (403, 404) else "errors/generic.html"
        return render_template(template, error=error), status, headers

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeoutError)
    def _database_unavailable(error: Exception):
        # The database went away (restart, fail-over, network) or every connection is busy: a moment
        # later the same request may well succeed, so say so (503 and Retry-After), never a 500.
        # The transaction did not commit unless the failure hit the COMMIT itself, which is rare.
        app.logger.warning("Database unavailable: %s", type(error).__name__, exc_info=True)
        message = "The service is busy. Please try again in a moment."
        if wants_json():
            response, status = json_error(503, "busy", message)
        else:
            response, status = render_template("errors/generic.html", error=ServiceUnavailable(message)), 503
        return response, status, {"Retry-After": "5"}

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error")
        if wants_json():
            return json_error(500, "server_error", "Something went wrong on our side. Please try again.")
        return render_template("errors/500.html"), 500
