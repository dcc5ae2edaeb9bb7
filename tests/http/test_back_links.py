"""A back link sits in the layout's one <nav aria-label="Back">: a page never wraps it in a second one."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login_as
from tests.support.factories import make_user


@pytest.mark.parametrize("path", ["/account/password", "/account/data", "/account/close"])
def test_the_back_link_is_in_one_back_navigation(client, path):
    login_as(client, make_user())

    html = client.get(path).text

    assert html.count('aria-label="Back"') == 1
    nav = re.search(r'<nav aria-label="Back">(.*?)</nav>', html, re.S)
    assert "Back to your account" in nav.group(1) and "<nav" not in nav.group(1)
