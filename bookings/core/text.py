"""Which text may be stored: the one rule for every string a client sends, in a form, a URL or a JSON body.

Two kinds of character are refused wherever they appear (values, field names, nested values):

- **Lone surrogates** (U+D800 to U+DFFF on their own). JSON can spell one (`"\\ud800"`), but it is not a
  Unicode character, so it cannot be encoded as UTF-8: any database write, log line or slug made from it
  fails. A pair that makes one character (`"\\ud83d\\ude00"`) decodes to that character and is fine.
- **C0 control characters** (U+0000 to U+001F) except tab, line feed and carriage return, which text areas
  send. PostgreSQL refuses NUL in text, even as a query parameter (a 500); the others are invisible, are
  never typed on purpose, and are not allowed in XML 1.0, so one rule covers them all.

They are refused, not stripped: stripping would store something other than what was sent (and can join
two words into one), while a refusal names the field and changes nothing. Only a JSON body can carry a
lone surrogate (an escape, or UTF-8 bytes that Python's JSON decoder lets through); form data and URLs
are decoded with replacement characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# In a UTF-8 JSON document unsafe text can only come from an escape (\u0000 to \u001f, \b, \f, \ud800 to
# \udfff) or from a surrogate encoded as UTF-8 (ED A0 80 to ED BF BF), which `json.loads` lets through
# (it decodes with "surrogatepass"): raw control characters are not allowed in a JSON string.
_UNSAFE_JSON_BYTES = re.compile(rb"\\(?:u00[01]|u[dD][89a-fA-F]|[bf])|\xed[\xa0-\xbf]")

CONTROL_CHARACTER_MESSAGE = (
    "Must not contain control characters (such as NUL, U+0000); only tab, line feed and carriage return are allowed."
)
MAX_REPORTED = 20  # field paths named in one answer: enough to fix a body, never a huge error body


def is_safe_text(text: str) -> bool:
    """True when `text` holds no lone surrogate and no control character other than tab, LF and CR."""
    return _UNSAFE.search(text) is None


@dataclass
class UnsafeText:
    """What `find_unsafe_text` found: whether a lone surrogate is anywhere, and where control characters are."""

    has_lone_surrogate: bool = False
    control_character_paths: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.has_lone_surrogate or bool(self.control_character_paths)


def json_may_hold_unsafe_text(document: bytes) -> bool:
    """False when a JSON document's bytes cannot decode to unsafe text, so `find_unsafe_text` can be skipped.

    One scan of the bytes at C speed; most bodies have no such escape. It may say True for a body that
    holds none (an escaped backslash before `u0000`, say): the walk then finds nothing.
    """
    if not json.detect_encoding(document).startswith("utf-8"):  # UTF-16 or UTF-32: rare, so always walked
        return True
    return _UNSAFE_JSON_BYTES.search(document) is not None


# A place in a JSON value: (parent place, key or index, position among the parent's members); () is the top.
_Place = tuple


def find_unsafe_text(value: dict[str, Any] | list[Any]) -> UnsafeText:
    """Every key and string in a parsed JSON object or array, at any depth, checked.

    Stops at the first lone surrogate (the whole body is refused). Otherwise names the fields with control
    characters as the API's field paths (`attendees[1].name`), in document order, up to `MAX_REPORTED` of
    them. The walk keeps its own stack, so nesting as deep as the JSON parser allows cannot exhaust
    Python's recursion limit, and builds a path only for what it reports.
    """
    found = UnsafeText()
    places: list[_Place] = []  # where control characters are, at most MAX_REPORTED
    stack: list[tuple[_Place, Any]] = [((), value)]
    search = _UNSAFE.search
    while stack:
        parent, item = stack.pop()
        containers = []
        members = item.items() if isinstance(item, dict) else enumerate(item)
        for position, (step, child) in enumerate(members):
            # Most members are clean: build nothing for them but the check.
            child_is_text = isinstance(child, str)
            if (child_is_text and search(child)) or (isinstance(step, str) and search(step)):
                texts = (step, child) if child_is_text else (step,)
                if any(isinstance(text, str) and _SURROGATE.search(text) for text in texts):
                    found.has_lone_surrogate = True
                    return found
                if len(places) < MAX_REPORTED:
                    places.append((parent, step, position))
            if not child_is_text and isinstance(child, (dict, list)):
                containers.append(((parent, step, position), child))
        stack.extend(reversed(containers))
    places.sort(key=_positions)
    found.control_character_paths = [_path_text(place) for place in places]
    return found


def _steps(place: _Place) -> list[tuple[str | int, int]]:
    steps = []
    while place:
        place, step, position = place
        steps.append((step, position))
    return steps[::-1]


def _positions(place: _Place) -> list[int]:
    return [position for _step, position in _steps(place)]


def _path_text(place: _Place) -> str:
    text = ""
    for step, _position in _steps(place):
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text = f"{text}.{step}" if text else step
    return text
