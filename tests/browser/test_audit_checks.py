"""The page checks every journey relies on fail when they should."""

from __future__ import annotations

import pytest

from tests.browser.steps import audit

pytestmark = pytest.mark.browser

PAGE = "<!DOCTYPE html><html lang='en'><head><title>Check</title></head><body><main>{}</main></body></html>"


def test_audit_passes_a_plain_page(page):
    page.set_content(PAGE.format("<h1>Title</h1><h2>Part</h2><p>Text</p>"))

    audit(page)


def test_audit_fails_a_skipped_heading_level(page):
    page.set_content(PAGE.format("<h1>Title</h1><h3>Part</h3>"))

    with pytest.raises(AssertionError, match="h3 'Part' follows h1"):
        audit(page)


def test_audit_fails_a_page_that_scrolls_sideways_at_320_px(page):
    page.set_content(PAGE.format("<h1>Title</h1><p id='wide' style='width: 400px'>Wide</p>"))

    with pytest.raises(AssertionError, match=r'needs horizontal scrolling at 320 px.*id="wide"'):
        audit(page)


def test_audit_fails_an_unlabelled_field(page):
    page.set_content(PAGE.format("<h1>Title</h1><input type='text'>"))

    with pytest.raises(AssertionError, match="label"):
        audit(page)
