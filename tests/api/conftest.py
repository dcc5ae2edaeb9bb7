"""API fixtures: tokens, a JSON client, and checks of responses against the OpenAPI document."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select

from bookings.api.openapi import build_document
from bookings.catalogue.models import Event, EventSession, TicketType
from bookings.core.audit import AuditRecord
from bookings.extensions import db
from tests.support.factories import make_admin, make_api_token, make_user

DOC_URI = "urn:bookings:api:v1:openapi"


@pytest.fixture
def admin(app):
    return make_admin()


@pytest.fixture
def admin_token(admin) -> str:
    return make_api_token(admin)


@pytest.fixture
def user(app):
    return make_user()


@pytest.fixture
def user_token(user) -> str:
    return make_api_token(user)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class OpenApi:
    """Validates bodies against the schemas the document gives for an operation."""

    def __init__(self) -> None:
        self.document = build_document()
        self.registry = Registry().with_resource(DOC_URI, Resource.from_contents(self.document, DRAFT202012))

    def validator(self, *pointer: str) -> Draft202012Validator:
        escaped = "/".join(quote(part.replace("~", "~0").replace("/", "~1"), safe="~") for part in pointer)
        return Draft202012Validator(
            {"$ref": f"{DOC_URI}#/{escaped}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def check_response(self, response, path: str, method: str) -> Any:
        """Fail unless the status is documented for the operation and the JSON body matches its schema."""
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], f"{method.upper()} {path} answered undocumented {status}"
        documented = operation["responses"][status]
        if "$ref" in documented:
            name = documented["$ref"].rsplit("/", 1)[-1]
            pointer = ("components", "responses", name, "content", "application/json", "schema")
        else:
            pointer = ("paths", path, method, "responses", status, "content", "application/json", "schema")
        body = response.get_json()
        errors = sorted(self.validator(*pointer).iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
        return body

    def request_errors(self, body: Any, path: str, method: str) -> list[str]:
        pointer = ("paths", path, method, "requestBody", "content", "application/json", "schema")
        return [e.message for e in self.validator(*pointer).iter_errors(body)]


@pytest.fixture(scope="session")
def openapi() -> OpenApi:
    return OpenApi()


def row_counts() -> dict[str, int]:
    """Rows of everything an event write could touch, to show that a refused request wrote nothing."""
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Event, EventSession, TicketType, AuditRecord)
    }
