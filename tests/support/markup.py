"""Reading rendered pages in HTTP tests: where the error summary's links lead."""

from __future__ import annotations

import re


def error_summary_targets(html: str) -> list[str]:
    """The ids the GOV.UK error summary links to, in order."""
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary"
    return re.findall(r'href="#([^"]+)"', summary.group(0))


def missing_error_targets(html: str) -> list[str]:
    """Error-summary links that lead nowhere: no element on the page has their id."""
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    return [target for target in error_summary_targets(html) if target not in ids]


def error_without_field(html: str, element_id: str) -> str:
    """The text of an error that belongs to no field: a GOV.UK error message with this id, with the visually
    hidden "Error:" prefix, in a form group marked as in error (components/errors.html, `error_message`)."""
    found = re.search(
        r'<div class="govuk-form-group govuk-form-group--error">\s*'
        rf'<p id="{re.escape(element_id)}" class="govuk-error-message">'
        r'<span class="govuk-visually-hidden">Error:</span>(.*?)</p>',
        html,
        re.S,
    )
    assert found, f"no error message with id {element_id!r}"
    return " ".join(found.group(1).split())


def unlabelled_table_wrappers(html: str) -> list[str]:
    """Scrolling table wrappers that a keyboard cannot reach or a screen reader cannot name: each must be a
    focusable region with a label (docs/accessibility.md)."""
    wrappers = re.findall(r'<div class="app-table-wrapper"[^>]*>', html)
    assert wrappers, "no table wrapper on the page"
    return [
        tag
        for tag in wrappers
        if not ('role="region"' in tag and 'tabindex="0"' in tag and re.search(r'aria-label="[^"]+"', tag))
    ]
