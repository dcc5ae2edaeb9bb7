"""Every scrolling table wrapper is a labelled region that takes focus, so keyboard users can scroll it (WCAG 2.1.1)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
WRAPPER = re.compile(r"<div[^>]*\bclass=\"[^\"]*\bapp-table-wrapper\b[^\"]*\"[^>]*>")


def test_every_table_wrapper_is_a_labelled_focusable_region():
    found, wanting = 0, []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag in WRAPPER.findall(template.read_text()):
            found += 1
            if not ('role="region"' in tag and 'tabindex="0"' in tag and "aria-label=" in tag):
                wanting.append(f"{template.relative_to(TEMPLATES)}: {tag}")
    assert found >= 10  # the scan still finds the wrappers
    assert not wanting
