"""Absolute links for emails, invoices and calendar files, with or without a request.

Inside a request the link follows the request's scheme and host (behind a
proxy, ProxyFix makes those right). Outside one (the sweep, mail delivery)
it uses SERVER_NAME/PREFERRED_URL_SCHEME when set, else BASE_URL.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: object) -> str:
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)
