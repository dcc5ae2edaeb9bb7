"""Walks every URL rule of the app as one visitor and classifies the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask

from tests.security.conftest import World, bearer

VISITORS = ("anon", "owner", "other", "admin")
CSRF_FIELD = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Visitor:
    name: str
    client: object
    csrf_token: str | None
    api_headers: dict[str, str]


def classify(response) -> str | int:
    """200, 404 ... as ints; a redirect to the sign-in page as "login", any other redirect as "redirect"."""
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        return "login" if "/sign-in" in location else "redirect"
    return response.status_code


def url_values(rule, world: World) -> dict[str, object]:
    """Fill a rule's parameters from objects owned by attendee A (the owner)."""
    waitlist_rule = "entry_id" in rule.arguments or rule.endpoint.startswith("waitlist.")
    values: dict[str, object] = {}
    for name in rule.arguments:
        if name == "reference":
            values[name] = world.booking.reference
        elif name == "event_id":
            values[name] = world.full_event.id if waitlist_rule else world.event.id
        elif name == "slug":
            values[name] = world.full_event.slug if waitlist_rule else world.event.slug
        elif name == "attendee_id":
            values[name] = world.attendee_id
        elif name == "entry_id":
            values[name] = world.entry.id
        elif name == "token":
            # The feed token is A's real one; other tokens (claim, reset) are guesses.
            values[name] = world.feed_token if rule.endpoint == "calendar.personal_feed" else "guessed-token-AAAA"
        elif name == "token_id":
            values[name] = world.owner_api_token_id
        elif name == "kind":
            values[name] = world.document.kind
        elif name == "number":
            values[name] = world.document.number
        elif name == "question_id":
            values[name] = world.question_id
        elif name == "message_id":
            values[name] = world.message_id
        elif name == "discount_id":
            values[name] = world.discount_id
        elif name == "fmt":
            values[name] = "csv"
        elif name == "filename":
            values[name] = "css/app.css"
        else:
            raise AssertionError(f"The authorisation walk cannot fill <{name}> of {rule.rule}: teach url_values()")
    return values


def make_visitor(app: Flask, name: str, world: World, login) -> Visitor:
    client = app.test_client()
    user = {"owner": world.owner, "other": world.other, "admin": world.admin}.get(name)
    token = {"owner": world.owner_token, "other": world.other_token, "admin": world.admin_token}.get(name)
    if user is not None:
        login(client, user)
    page = client.get("/account/password" if user else "/sign-in")
    match = CSRF_FIELD.search(page.data)
    assert match, f"no CSRF token on the form page for {name}"
    return Visitor(name, client, match.group(1).decode(), bearer(token) if token else {})


def visit(visitor: Visitor, rule, path: str, method: str):
    is_api = rule.rule.startswith("/api/")
    if method == "GET":
        return visitor.client.get(path, headers=visitor.api_headers if is_api else {})
    if is_api:
        return visitor.client.open(path, method=method, json={}, headers=visitor.api_headers)
    return visitor.client.open(path, method=method, data={"csrf_token": visitor.csrf_token})
