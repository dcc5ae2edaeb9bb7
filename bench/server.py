"""The servers the benchmark measures: gunicorn with deploy/gunicorn.conf.py, run from a venv with
the app's own dependencies only, and the memory of its workers."""

from __future__ import annotations

import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from bench import load  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"
# The server runs from a venv with the app's own dependencies only, as deploy/ installs it: the test
# extra (localstripe, and aiohttp, which stripe imports whenever it is present) is not in production,
# and would add its memory to every worker's figure.
SERVER_VENV = ROOT / ".bench-venv"
START_TIMEOUT_SECONDS = 120
SECRET_KEY = secrets.token_urlsafe(48)
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# Used only when deploy/gunicorn.conf.py is absent; chosen as docs/performance.md explains.
DEFAULT_GUNICORN_ARGS = ["--workers", "8", "--worker-class", "gthread", "--threads", "1"]


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def gunicorn_args() -> list[str]:
    if GUNICORN_CONF.exists():
        return ["--config", str(GUNICORN_CONF)]
    return list(DEFAULT_GUNICORN_ARGS)


def server_bin() -> Path:
    """bin/ of SERVER_VENV, made (or brought up to date) with `pip install -e .` on first use."""
    python = SERVER_VENV / "bin" / "python"
    if not python.exists():
        log(f"making {SERVER_VENV.name} (the app without test tools) for the server")
        subprocess.run([sys.executable, "-m", "venv", str(SERVER_VENV)], check=True, timeout=300)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--editable", str(ROOT)],
        timeout=900,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        raise RuntimeError(f"pip install into {SERVER_VENV} failed:\n{pip.stdout[-3000:]}{pip.stderr[-3000:]}")
    return SERVER_VENV / "bin"


def app_env(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BOOKINGS_ENV"}}
    env.update(
        BOOKINGS_ENV="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=url,
        MAIL_SERVER="",
        PYTHONPATH=str(ROOT),
        BASE_URL="http://127.0.0.1",
    )
    env.update(extra or {})
    return env


@contextmanager
def gunicorn(app_path: str, env: dict[str, str]):
    port = free_port()
    args = [str(server_bin() / "gunicorn"), *gunicorn_args(), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    log_file = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([*args, app_path], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {Path(log_file.name).read_text()[-2000:]}")
            try:
                status = load.run_requests(base, [("GET", "/", {}, None)], concurrency=1)["results"][0][0]
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer in time")
            time.sleep(0.5)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log_file.close()
        text = Path(log_file.name).read_text(errors="replace")
        # Everything but the request lines of 2xx and 3xx answers: errors, warnings, 4xx/5xx requests.
        unusual = [line for line in text.splitlines() if not re.search(r'"status": [23]\d\d', line)]
        alarming = re.compile(r'"level": "(ERROR|WARNING)"|Traceback|"status": 5\d\d')
        if any(alarming.search(line) for line in unusual):
            kept = RESULTS.parent / f"server-{app_path.split(':')[0]}-{port}.log"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text("\n".join(unusual)[-500_000:] + "\n")
            log(f"the server logged warnings or errors: kept in {kept.relative_to(ROOT)}")
        Path(log_file.name).unlink(missing_ok=True)


def worker_memory(master_pid: int) -> list[dict[str, float]]:
    """VmHWM (peak RSS) and VmRSS in MB of each gunicorn worker (the master's children)."""
    workers = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            workers.append(
                {
                    "pid": int(status.parent.name),
                    "hwm_mb": int(fields["VmHWM"].split()[0]) / 1024,
                    "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
                }
            )
    return workers


def machine() -> dict:
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cores": os.cpu_count(),
        "memory_mb": int(mem) // 1024,
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "load_before": os.getloadavg(),
    }
