"""Load generators: wrk for fixed URLs (reads, the ceiling), a threaded Python client for scripted requests.

wrk is the measuring stick (RECIPES.md: Python clients saturate first), so
every fixed-URL figure comes from it when it is installed; without it the
Python client stands in and the report says so.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

WRK = shutil.which("wrk")
REQUEST_TIMEOUT_SECONDS = 60


@dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float | None
    p99_ms: float
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    tool: str = "python"

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, *, connections: int, seconds: int, headers: dict[str, str] | None = None) -> Result:
    """`wrk --latency` for `seconds` at `connections` (2 threads, or 1 below 2 connections)."""
    if WRK is None:
        return python_fixed(url, connections=connections, seconds=seconds, headers=headers)
    args = [WRK, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    lat = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return Result(total, seconds, rps, lat["50"], None, lat["99"], errors=errors, tool="wrk")


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=REQUEST_TIMEOUT_SECONDS)


def run_requests(base_url: str, requests: list[tuple[str, str, dict, bytes | None]], *, concurrency: int) -> dict:
    """Send each (method, path, headers, body) once over `concurrency` keep-alive connections.

    Returns the latencies, statuses, bodies (parsed JSON where possible) and wall time.
    """
    lock = threading.Lock()
    queue = list(enumerate(requests))
    out: list = [None] * len(requests)

    def worker() -> None:
        conn = _connection(base_url)
        while True:
            with lock:
                if not queue:
                    break
                index, (method, path, headers, body) = queue.pop(0)
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = _connection(base_url)
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = _connection(base_url)
                status, raw = 0, str(error).encode()
            elapsed = time.perf_counter() - started
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            out[index] = (status, elapsed, parsed, time.perf_counter())
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS * 3)
    return {"started": started, "wall": time.perf_counter() - started, "results": out}


def python_fixed(url: str, *, connections: int, seconds: int, headers: dict[str, str] | None = None) -> Result:
    """The stand-in for wrk: GET `url` over `connections` keep-alive connections for `seconds`."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = _connection(url)
        mine, codes = [], {}
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers or {})
                response = conn.getresponse()
                response.read()
                code = str(response.status)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = _connection(url)
                code = "error"
            mine.append(time.perf_counter() - started)
            codes[code] = codes.get(code, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_SECONDS)
    wall = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    errors = sum(n for code, n in statuses.items() if code == "error" or int(code) >= 400)
    return Result(
        len(ms),
        wall,
        len(ms) / wall,
        percentile(ms, 50),
        percentile(ms, 95),
        percentile(ms, 99),
        errors=errors,
        statuses=statuses,
        tool="python",
    )


def summarise(latencies_s: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in latencies_s]
    return {
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms) if ms else 0.0,
    }
