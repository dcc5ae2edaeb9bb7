"""Where `?next=` may send someone after signing in: only to a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_safe_next(url: str | None) -> bool:
    """True for a relative path on this site ("/events/x?y=1"); False for anything a browser may send elsewhere.

    Browsers treat a backslash as a slash and drop tabs and newlines, so
    "/\\evil.example" and "/\\t/evil.example" both mean "//evil.example": refuse them too.
    """
    if not url or not isinstance(url, str):
        return False
    if "\\" in url or any(ord(char) < 32 or ord(char) == 127 for char in url):
        return False
    if not url.startswith("/") or url.startswith("//"):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc
