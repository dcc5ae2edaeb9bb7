from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def request_ctx(app: Flask, clock):
    """Links in files are absolute, as in a request."""
    with app.test_request_context("/", base_url="https://bookings.example"):
        yield
