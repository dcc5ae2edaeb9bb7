"""Fixtures that start real components: an SMTP sink, the live server, a fake Stripe, khal, Chromium.

Imported by tests/conftest.py (`from tests.fixtures_components import *`). Each
component is started as rarely as its isolation allows (see docs/testing.md):

| fixture            | scope    | what runs                                                  |
| ------------------ | -------- | ---------------------------------------------------------- |
| smtp_sink          | function | aiosmtpd in a thread on a free port                        |
| smtp_server        | function | the same, with MAIL_SERVER/MAIL_PORT set on `app`          |
| live_server        | module   | gunicorn serving the app against `database_url`            |
| fake_stripe        | function | reset of one localstripe process per test session/worker  |
| khal               | function | a fresh khal config, vdir and cache in tmp_path            |
| browser            | session  | Debian's Chromium through Playwright                       |
| page               | function | a fresh browser context (no cookies) and page              |

A component that is missing skips locally and fails when CI=true (`require`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import (
    CHROMIUM,
    chromium_available,
    launch_browser,
    playwright_available,
    save_screenshot,
)
from tests.support.fake_stripe import FakeStripe
from tests.support.khal import Khal, khal_executable
from tests.support.live_server import LiveServer
from tests.support.smtp import SmtpSink

__all__ = [
    "browser",
    "fake_stripe",
    "fake_stripe_server",
    "khal",
    "live_server",
    "live_server_config",
    "page",
    "pytest_runtest_makereport",
    "screenshot",
    "smtp_server",
    "smtp_sink",
]


# -- SMTP ---------------------------------------------------------------------


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An SMTP server collecting messages (not wired to any app)."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_server(app, smtp_sink) -> SmtpSink:
    """The SMTP sink, with the `app` fixture's MAIL_SERVER/MAIL_PORT pointing at it."""
    app.config.update(MAIL_SERVER=smtp_sink.host, MAIL_PORT=smtp_sink.port, MAIL_USE_TLS=False, MAIL_USERNAME="")
    return smtp_sink


# -- live server -----------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server_config() -> dict:
    """Config overrides for the module's live server; override this fixture in a test module to change them."""
    return {}


@pytest.fixture(scope="module")
def live_server(database_url, _schema, live_server_config) -> Iterator[LiveServer]:
    """The app in gunicorn (own process, free port) on the test database; `str(live_server)` is its base URL.

    Module-scoped: starting costs about a second. It shares `database_url` with
    the `app` fixture, so rows a test commits through `app` are visible to it,
    and the `app` fixture's clean-up empties the tables after each test.
    """
    server = LiveServer(database_url, config=live_server_config)
    server.start()
    yield server
    server.stop()


# -- fake Stripe -------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    """One fake Stripe process per test session (per xdist worker)."""
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server) -> FakeStripe:
    """The fake Stripe, emptied for this test (no objects, events, webhook endpoints or injected failures)."""
    fake_stripe_server.reset()
    return fake_stripe_server


# -- khal ---------------------------------------------------------------------------


@pytest.fixture
def khal(tmp_path) -> Khal:
    from tests.conftest import require

    require(khal_executable() is not None, "khal is not installed (pip install khal)")
    return Khal(tmp_path / "khal")


# -- browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, shared by the session (launch costs about a second)."""
    from tests.conftest import require

    require(playwright_available(), "Playwright is not installed (pip install playwright; never `playwright install`)")
    require(chromium_available(), f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A page in a fresh context (no cookies, no storage). A failing test leaves a screenshot behind."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    yield page
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        save_screenshot(page, f"FAILED-{request.node.nodeid}")
    context.close()


@pytest.fixture
def screenshot(page, request):
    """Call `screenshot()` or `screenshot("step")` to save test-artifacts/screenshots/<test>[-step].png."""

    def take(step: str = ""):
        name = request.node.nodeid + (f"-{step}" if step else "")
        return save_screenshot(page, name)

    return take


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep the call-phase report on the item so `page` can tell whether the test failed."""
    report = yield
    if report.when == "call":
        item._report_call = report
    return report
