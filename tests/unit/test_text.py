"""bookings.core.text: which strings may be stored, and where in a JSON value the others are."""

from __future__ import annotations

import json
import re

import pytest

from bookings.core.text import MAX_REPORTED, find_unsafe_text, is_safe_text, json_may_hold_unsafe_text

# Every C0 control character text may not hold, and lone surrogates from both ends of both halves.
UNSAFE_CHARACTERS = [
    chr(c) for c in (*range(0x20), 0xD800, 0xDA00, 0xDBFF, 0xDC00, 0xDEAD, 0xDFFF) if chr(c) not in "\t\n\r"
]


@pytest.mark.parametrize(
    "text",
    ["", "Ann Example", "Line one\r\nLine two\n\tindented", "Zoë Ó Súilleabháin", "\U0001f600", "\x7f", "\u0085"],
)
def test_ordinary_text_tabs_and_line_breaks_are_safe(text):
    assert is_safe_text(text)


@pytest.mark.parametrize("code_point", [c for c in range(0x20) if chr(c) not in "\t\n\r"])
def test_every_other_c0_control_character_is_unsafe(code_point):
    assert not is_safe_text(f"Ann{chr(code_point)}Example")


@pytest.mark.parametrize("text", ["\ud800", "a\udbff", "\udc00b", "\udfff"])
def test_a_lone_surrogate_is_unsafe(text):
    assert not is_safe_text(text)


def test_paths_name_values_keys_and_nested_items_in_document_order():
    value = {
        "sessions": [{"title": "Day 1"}, {"title": "Day\x0b2"}],
        "title": "Safe\x00guarding",
        "answers": {"7": ["yes", "n\x1fo"]},
        "ke\x01y": "fine",
        "capacity": 5,
        "is_online": None,
    }

    found = find_unsafe_text(value)

    assert not found.has_lone_surrogate
    assert found.control_character_paths == ["sessions[1].title", "title", "answers.7[1]", "ke\x01y"]


def test_a_lone_surrogate_anywhere_is_found_even_after_the_reporting_limit():
    value = {"names": ["\x00"] * (MAX_REPORTED + 5) + [{"deep": ["\ud800"]}]}

    assert find_unsafe_text(value).has_lone_surrogate
    assert find_unsafe_text({"k\udc00ey": "x"}).has_lone_surrogate


def test_at_most_the_reporting_limit_of_fields_is_named():
    found = find_unsafe_text({"names": ["\x00"] * (MAX_REPORTED + 5)})

    assert found.control_character_paths == [f"names[{index}]" for index in range(MAX_REPORTED)]


def test_clean_values_find_nothing():
    assert not find_unsafe_text({"attendees": [{"name": "Ann", "email": "ann@example.org"}], "n": 1.5, "b": True})


def test_nesting_deeper_than_the_recursion_limit_is_walked():
    value: list = ["\x00"]
    for _ in range(50_000):
        value = [value]

    assert find_unsafe_text({"x": value}).control_character_paths == ["x" + "[0]" * 50_001]


@pytest.mark.parametrize("character", UNSAFE_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_the_byte_scan_never_misses_unsafe_text_however_it_is_encoded(character):
    value = {"name": f"Ann{character}"}
    encodings = [
        json.dumps(value).encode(),  # ASCII escapes: \u0000, \b, \ud800
        re.sub(rb"\\u(\w{4})", lambda m: b"\\u" + m.group(1).upper(), json.dumps(value).encode()),  # \uD800
        json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"),  # raw UTF-8, as json.loads reads it
        json.dumps(value).encode("utf-16"),
    ]
    for document in encodings:
        assert find_unsafe_text(json.loads(document)), document
        assert json_may_hold_unsafe_text(document), document


@pytest.mark.parametrize(
    "document",
    [
        b'{"name": "Ann Example"}',
        b'{"address": "1 Civic Square\\nExampleton\\r\\n", "note": "\\tindented \\"quoted\\" \\/"}',
        '{"name": "Zo\u00eb \U0001f600"}'.encode(),
        b'{"name": "Zo\\u00eb"}',
    ],
)
def test_the_byte_scan_lets_ordinary_bodies_skip_the_walk(document):
    assert not json_may_hold_unsafe_text(document)
