from __future__ import annotations

import re

import pytest

from tests.http.accounts.conftest import count_rows
from tests.support.factories import make_user


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/register",
            {
                "name": "Ann Example",
                "email": "ann@council.example",
                "organisation": "Exampleton Council",
                "sector": "public",
                "password": "plum orchard bicycle",
            },
        ),
        ("/sign-in", {"email": "known@council.example", "password": "wrong password here"}),
        ("/password-reset", {"email": "known@council.example"}),
    ],
)
def test_post_without_csrf_token_is_rejected_and_writes_nothing(csrf_app, clock, path, data):
    make_user(email="known@council.example")
    client = csrf_app.test_client()
    before = count_rows()

    response = client.post(path, data=data)

    assert response.status_code == 400
    assert count_rows() == before


def test_post_with_the_csrf_token_from_the_form_is_accepted(csrf_app, clock):
    client = csrf_app.test_client()
    page = client.get("/password-reset").text
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    response = client.post("/password-reset", data={"email": "nobody@council.example", "csrf_token": token})

    assert response.status_code == 302
