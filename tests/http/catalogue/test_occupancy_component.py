"""The occupancy macros: places left in words, and the organisers' bar that repeats the numbers."""

from __future__ import annotations

import re

import pytest


def render(app, call: str) -> str:
    template = app.jinja_env.from_string(
        '{% from "components/occupancy.html" import places_left_tag, occupancy_bar %}' + call
    )
    with app.test_request_context():
        return re.sub(r"\s+", " ", template.render())


@pytest.mark.parametrize(
    ("left", "text", "colour"),
    [
        (0, "Fully booked", "red"),
        (-1, "Fully booked", "red"),
        (1, "1 place left", "yellow"),
        (6, "6 places left", "green"),
    ],
)
def test_places_left_tag_says_how_many_places_are_left(app, left, text, colour):
    html = render(app, f"{{{{ places_left_tag({left}) }}}}")

    assert f'<strong class="govuk-tag govuk-tag--{colour}">{text}</strong>' in html


def test_occupancy_bar_states_the_numbers_in_words_and_draws_each_part(app):
    html = render(app, "{{ occupancy_bar(20, confirmed=10, held=4, offered=1) }}")

    assert "10 confirmed, 4 held, 1 offered: 5 places free of 20" in html
    assert 'aria-hidden="true"' in html
    assert re.findall(r'<rect x="([\d.]+)" y="0" width="([\d.]+)"', html) == [
        ("0", "500.0"),
        ("500.0", "200.0"),
        ("700.0", "50.0"),
    ]
    assert "style=" not in html


def test_occupancy_bar_over_capacity_shows_no_free_places_and_stays_in_bounds(app):
    html = render(app, "{{ occupancy_bar(4, confirmed=5) }}")

    assert "0 places free of 4" in html
    assert 'width="1000.0"' in html
