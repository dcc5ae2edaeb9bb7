"""JSON API v1 and its OpenAPI document."""

from bookings.api import bookings, events, openapi, waitlist  # noqa: F401  registers the routes
from bookings.api.blueprint import bp  # noqa: F401
