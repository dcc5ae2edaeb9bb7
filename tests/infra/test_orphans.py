"""A test run killed without clean-up (a `timeout`, SIGKILL) leaves no live server or fake Stripe behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAIT_BOUND_SECONDS = 120  # a bound on the wait, not an expectation of speed

STARTER = """
import json, sys, time
from tests.support.fake_stripe import FakeStripe
from tests.support.live_server import LiveServer
kind, url = sys.argv[1], sys.argv[2]
component = FakeStripe().start() if kind == "stripe" else LiveServer(url).start()
print(json.dumps(component._process.pid), flush=True)
time.sleep(600)
"""


def _start_then_kill_the_starter(kind: str, database_url: str) -> int:
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, kind, database_url], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = json.loads(starter.stdout.readline())
    finally:
        starter.kill()
        starter.wait()
        starter.stdout.close()
    return pid


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT_BOUND_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_fake_stripe_ends_when_its_test_process_is_killed():
    pid = _start_then_kill_the_starter("stripe", "")

    assert _gone(pid)


def test_live_server_ends_when_its_test_process_is_killed(database_url, _schema):
    pid = _start_then_kill_the_starter("live", database_url)

    assert _gone(pid)
