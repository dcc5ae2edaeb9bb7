"""JSON API v1 and its OpenAPI document."""

from bookings.api.blueprint import bp  # noqa: F401
