"""Text the database cannot hold stops at the edge, before any view or query sees it (`bookings.core.text`).

- A URL value (`/bookings/<reference>`) with such a character names nothing: 404, JSON under /api/.
- A page's query string or form body with one anywhere (values and field names alike) is refused with
  400 and a GOV.UK error summary; nothing is read or written. PostgreSQL refuses NUL even as a query
  parameter, so a check in each view or service would have to be in every one of them; here it is in
  one place, for every form, search box and hidden field. The page links back to the form's field
  rather than showing the form again: most views read `request.form` themselves, with no shared form
  class to hand the error to, and such text is almost never typed (a bot, or a paste from elsewhere).
- The API reads its bodies through `api.blueprint.json_object`, which applies the same rule and answers
  in the API's own shape (400 or 422); Stripe's webhooks are signed JSON, read raw.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from flask import Flask, render_template, request

from bookings.core.errors import NotFound
from bookings.core.text import is_safe_text
from bookings.site.errors import wants_json

MESSAGE = "What you entered contains a control character (an invisible character, such as NUL) that we cannot accept"


def init_text_guard(app: Flask) -> None:
    @app.url_value_preprocessor
    def _refuse_unsafe_url_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
        for value in (values or {}).values():
            if isinstance(value, str) and not is_safe_text(value):
                raise NotFound("There is no such thing.")

    @app.before_request
    def _refuse_unsafe_form_text():
        if wants_json():
            return None
        fields = chain(request.args.items(multi=True), request.form.items(multi=True))
        refused = [name for name, value in fields if not (is_safe_text(name) and is_safe_text(value))]
        if not refused:
            return None
        # The summary links back to the form's first refused field (the page the person came from).
        back = request.referrer if request.referrer and request.referrer.startswith(request.host_url) else None
        anchor = next((name for name in refused if is_safe_text(name)), None)
        link = f"{back.partition('#')[0]}#{anchor}" if back and anchor else back
        return render_template("errors/unsafe_text.html", message=MESSAGE, back=back, link=link), 400
