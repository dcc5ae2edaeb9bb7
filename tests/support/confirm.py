"""Reading pages in HTTP tests: which forms post where, and the parts of an "are you sure?" page.

A confirmation page (templates/components/confirm.html) has one form of its own that posts, with the
CSRF token, to the action it confirms, and a link back that changes nothing. The layout's own
sign-out form is left out of everything here.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

SIGN_OUT = "/sign-out"
_POST_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*>', re.I)
_ACTION = re.compile(r'\baction="([^"]*)"')
_CONFIRM = re.compile(
    r'<form method="post" action="(?P<action>[^"]+)" novalidate>\s*'
    r'<input type="hidden" name="csrf_token" value="(?P<csrf>[^"]+)">\s*'
    r'<div class="govuk-button-group">\s*'
    r'<button type="submit"[^>]*\bclass="govuk-button govuk-button--warning"[^>]*>(?P<button>.*?)</button>\s*'
    r'<a class="govuk-link" href="(?P<cancel_href>[^"]+)">(?P<cancel_text>.*?)</a>',
    re.S,
)


def post_actions(page: str) -> list[str]:
    """Where each POST form on the page sends its data (a form without an action posts to the page)."""
    actions = []
    for tag in _POST_FORM.findall(page):
        match = _ACTION.search(tag)
        actions.append(html_lib.unescape(match.group(1)) if match else "")
    return [action for action in actions if action != SIGN_OUT]


def link_hrefs(page: str) -> list[str]:
    return [html_lib.unescape(href) for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', page)]


@dataclass(frozen=True)
class ConfirmPage:
    action: str
    csrf_token: str
    button: str
    cancel_href: str
    cancel_text: str


def read_confirm_page(page: str) -> ConfirmPage:
    match = _CONFIRM.search(page)
    assert match, "no confirmation form (POST form with CSRF token, warning button and a link back) on the page"
    text = {name: html_lib.unescape(" ".join(match.group(name).split())) for name in ("button", "cancel_text")}
    return ConfirmPage(
        action=html_lib.unescape(match.group("action")),
        csrf_token=match.group("csrf"),
        button=text["button"],
        cancel_href=html_lib.unescape(match.group("cancel_href")),
        cancel_text=text["cancel_text"],
    )
