import pytest


def _stub_view(**_kwargs):
    return "stub"


@pytest.fixture
def booking_endpoints(app):
    """Make sure `booking.start` and `waitlist.join` exist (the real ones when their areas are built)."""
    for endpoint, rule, methods in (
        ("booking.start", "/test-stub/events/<slug>/book", ["POST"]),
        ("waitlist.join", "/test-stub/events/<slug>/waiting-list", ["GET"]),
    ):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=_stub_view, methods=methods)
    return app
