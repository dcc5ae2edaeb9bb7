"""The live server: the real app in gunicorn, in its own process, on the test database."""

from __future__ import annotations

import pytest
import requests

from tests.support.factories import make_event
from tests.support.live_server import LiveServer, LiveServerError

SITE_NAME = "Live Server Test Bookings"


@pytest.fixture(scope="module")
def live_server_config():
    return {"SITE_NAME": SITE_NAME}


def test_live_server_answers_health_check(live_server):
    response = requests.get(f"{live_server}/healthz", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_live_server_runs_with_the_module_config_overrides(live_server):
    response = requests.get(f"{live_server.url}/accessibility", timeout=10)

    assert response.status_code == 200
    assert SITE_NAME in response.text


def test_live_server_sees_rows_the_test_committed(app, live_server):
    event = make_event(title="Safeguarding refresher for live server")

    response = requests.get(f"{live_server.url}/events/{event.slug}", timeout=10)

    assert response.status_code == 200
    assert "Safeguarding refresher for live server" in response.text


def test_live_server_stops_and_frees_its_port(database_url, _schema):
    server = LiveServer(database_url).start()
    url = server.url

    server.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/healthz", timeout=5)


def test_live_server_that_cannot_start_reports_its_log(tmp_path):
    server = LiveServer(f"sqlite:///{tmp_path}/x.sqlite", config={"SECRET_KEY": ""})

    with pytest.raises(LiveServerError, match="SECRET_KEY is not set"):
        server.start()
