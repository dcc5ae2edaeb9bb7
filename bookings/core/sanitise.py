"""Rich text from organisers (event descriptions), made safe to show: an allow-list, kept by nh3.

nh3 binds ammonia, a maintained HTML sanitiser written in Rust (bleach, the
usual Python choice, is deprecated). Everything not on the list goes: scripts
and styles with their content, event handlers, `style`, `javascript:` and
`data:` links, iframes, forms. Links keep only http(s) and mailto targets and
get `rel="noopener noreferrer nofollow"`. GOV.UK classes are set here, never
taken from the input. Everything else in the app is escaped by Jinja.
"""

from __future__ import annotations

import re

import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
DROP_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"}
GOVUK_CLASSES = {
    "p": {"class": "govuk-body"},
    "a": {"class": "govuk-link"},
    "ul": {"class": "govuk-list govuk-list--bullet"},
    "ol": {"class": "govuk-list govuk-list--number"},
    "h2": {"class": "govuk-heading-m"},
    "h3": {"class": "govuk-heading-s"},
    "h4": {"class": "govuk-heading-s"},
}
# HTML mode when the text uses one of the allowed tags; otherwise it is plain text ("Bring <laptop>").
_LOOKS_LIKE_HTML = re.compile(r"<\s*/?\s*(?:" + "|".join(sorted(ALLOWED_TAGS)) + r")\b[^>]*>", re.IGNORECASE)


def sanitise_html(html: str | None) -> str:
    """The HTML with only allowed tags, attributes and link schemes left (a str, safe to store)."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values=GOVUK_CLASSES,
        strip_comments=True,
    )


def clean_rich_text(value: str) -> str:
    """What to store for a description: sanitised when it is HTML, untouched when it is plain text.

    Stored clean so that API readers get safe HTML too; pages sanitise again as they render.
    """
    return sanitise_html(value) if _LOOKS_LIKE_HTML.search(value or "") else value


def rich_text(value: str | None) -> Markup:
    """A description for a page: sanitised HTML, or plain text split into escaped paragraphs.

    Either way the result is safe: text that merely looks like HTML is escaped.
    """
    text = (value or "").strip()
    if not text:
        return Markup("")
    if _LOOKS_LIKE_HTML.search(text):
        # Safe to mark: nh3 has just sanitised it.
        return Markup(sanitise_html(text))  # noqa: S704 # nosec B704
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    return Markup("\n").join(
        Markup('<p class="govuk-body">{}</p>').format(Markup("<br>").join(escape(line) for line in part.splitlines()))
        for part in paragraphs
    )
