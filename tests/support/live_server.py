"""The real app in a real HTTP server (gunicorn), in its own OS process, on a free port.

    with LiveServer(database_url, config={"MAIL_PORT": 2525}) as server:
        requests.get(f"{server.url}/healthz")

The listening socket is bound here first and handed to gunicorn (`--bind fd://N`),
so the port is known before the server starts and nobody can take it meanwhile.
`start()` returns once /healthz answers; `stop()` shuts gunicorn down (and, if it
does not go quietly, kills its whole process group). The server log is kept in a
temporary file and shown when the server fails to start.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120  # only a bound: on a loaded 2-core machine the app import can take many seconds
STOP_TIMEOUT_SECONDS = 10


class LiveServerError(RuntimeError):
    pass


class LiveServer:
    """gunicorn serving `tests.support.serve:app` against `database_url` (whose schema must exist)."""

    def __init__(
        self,
        database_url: str,
        *,
        config: dict | None = None,
        now: datetime | None = None,
        workers: int = 1,
        threads: int = 4,
        env: dict[str, str] | None = None,
    ):
        self.database_url = database_url
        self.config = dict(config or {})
        self.now = now
        self.workers = workers
        self.threads = threads
        self.extra_env = dict(env or {})
        self.host = "127.0.0.1"
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None
        self._log_file = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise LiveServerError("the live server is not started")
        return f"http://{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.url

    def log(self) -> str:
        """Everything gunicorn and the app wrote so far."""
        if self._log_file is None:
            return ""
        self._log_file.flush()
        return Path(self._log_file.name).read_text(errors="replace")

    def start(self) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        sock.set_inheritable(True)
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._log_file = tempfile.NamedTemporaryFile("w+", prefix="live-server-", suffix=".log", delete=False)  # noqa: SIM115

        env = {
            **os.environ,
            "BOOKINGS_TEST_DB_URL": self.database_url,
            "BOOKINGS_TEST_CONFIG": json.dumps(self.config),
            "PYTHONUNBUFFERED": "1",
            "BOOKINGS_TEST_PARENT_PID": str(os.getpid()),
            **self.extra_env,
        }
        if self.now is not None:
            env["BOOKINGS_TEST_NOW"] = self.now.isoformat()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"fd://{sock.fileno()}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "tests.support.serve:app",
        ]
        self._process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            pass_fds=(sock.fileno(),),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() can end the workers too
        )
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self._process.poll() is not None:
                raise LiveServerError(f"the live server exited with {self._process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise LiveServerError(f"the live server did not answer within {START_TIMEOUT_SECONDS}s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGINT: gunicorn's quick shutdown (SIGTERM waits out its arbiter loop and keep-alive connections).
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._log_file is not None:
            self._log_file.close()
            Path(self._log_file.name).unlink(missing_ok=True)
            self._log_file = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
