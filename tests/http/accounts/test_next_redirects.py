from __future__ import annotations

import pytest

from bookings.accounts.redirects import is_safe_next


@pytest.mark.parametrize("url", ["/", "/account", "/events/leadership-course?date=2027-01-01", "/my-bookings#b1"])
def test_relative_paths_on_this_site_are_safe(url):
    assert is_safe_next(url)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "//evil.example",
        "//evil.example/account",
        "https://evil.example",
        "http://evil.example/account",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "account",
        " //evil.example",
        "https:/evil.example",
    ],
)
def test_anything_that_could_leave_the_site_is_unsafe(url):
    assert not is_safe_next(url)
