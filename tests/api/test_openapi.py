"""The OpenAPI document: valid, served, and in step with the routes that really exist."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from bookings.api.openapi import build_document

IGNORED_METHODS = {"HEAD", "OPTIONS"}
PREFIX = "/api/v1"


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(PREFIX) :])
        routes.update((path, method.lower()) for method in rule.methods - IGNORED_METHODS)
    return routes


def _documented(document) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(path, method) for path, item in document["paths"].items() for method in item if method in methods}


def test_openapi_document_is_valid_openapi():
    validate(build_document())


def test_every_api_route_is_documented(app):
    missing = _routes(app) - _documented(build_document())
    assert not missing, f"Document these routes in bookings/api/openapi.py: {sorted(missing)}"


def test_every_documented_operation_exists(app):
    stale = _documented(build_document()) - _routes(app)
    assert not stale, f"Documented but not routed: {sorted(stale)}"


def test_openapi_document_is_served_without_a_token(client, openapi):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = openapi.check_response(response, "/openapi.json", "get")
    assert body["openapi"].startswith("3.1")
    assert body["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": body["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_date_time_formats_are_really_checked():
    # Without rfc3339-validator, jsonschema skips date-time silently and the response checks prove less.
    checker = Draft202012Validator.FORMAT_CHECKER
    assert not checker.conforms("2027-03-27T09:30:00", "date-time")
    assert checker.conforms("2027-03-27T09:30:00+00:00", "date-time")


def test_response_check_catches_an_undocumented_field(openapi, client, admin_token):
    from tests.api.conftest import bearer
    from tests.support.factories import make_event

    make_event()
    response = client.get("/api/v1/events", headers=bearer(admin_token))
    body = response.get_json()
    body["events"][0]["surprise"] = 1
    errors = list(openapi.validator("components", "schemas", "EventList").iter_errors(body))
    assert errors
