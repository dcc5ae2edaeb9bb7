"""The deployment test (`make test-deploy`, as root): the production topology on this machine, then trouble.

What it builds, all on this machine:
- two app hosts, each in its own network namespace joined to the host by a veth pair in a private /30
  (10.231.N.0/30 and 10.231.N.4/30, N chosen so that nothing on the machine uses it), each running
  gunicorn with deploy/gunicorn.conf.py and its sweep and mail delivery (deploy/test/host_jobs.py);
- nginx on 127.0.0.1 with deploy/nginx/bookings.conf (only the lines marked "host:" rewritten),
  balancing between the two hosts and serving /static/ itself;
- one PostgreSQL listening on loopback and on the host side of each veth, migrated with `flask db upgrade`;
- an SMTP sink (aiosmtpd) on the host side of each veth.

Then a rush for the last places through nginx: many API users book one place each, the refused join
the waiting list, some who got a place cancel it (so offers go out). Mid-rush one app host is killed
(`kill -9` of its whole process group: gunicorn master, workers, sweep and mail), later PostgreSQL is
restarted once (`pg_ctl restart -m fast`). Afterwards it checks: no overbooking, no confirmed booking
lost, no email or offer sent twice, every answer in the allowed set (never 500, never a bare 502), and
the surviving host keeps serving. Everything is torn down on the way out, failure or not.

Why nginx's 502 becomes a 503 here: a POST in flight on the host that died cannot be passed on to the
other host (nginx never re-sends a non-idempotent request it has sent), and its outcome is unknown to
everybody but the database. The site answers it as a JSON 503 `unavailable` that says so; the test's
clients then do what that answer asks (look at their bookings before trying again) and the test reports
how many such bookings had been made all the same. After a 503 `busy` the clients wait and try again.
"""

# ruff: noqa: S603, S607  a test harness: it runs fixed commands (ip, nginx, gunicorn) it names itself

from __future__ import annotations

import collections
import contextlib
import email
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.ports import free_port  # noqa: E402
from tests.support.postgres import PostgresCluster, _as_postgres  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
APP_PORT = 8000  # inside each namespace: every host has its own network stack
CAPACITY = 40
USERS = 150
CLIENT_THREADS = 24
CANCEL_EVERY = 5  # one booker in five cancels the place they got, so offers go to the waiting list
KILL_AT = 0.2  # share of users finished when host A is killed
PG_RESTART_AT = 0.5  # ... and when PostgreSQL is restarted
MAX_ATTEMPTS = 20  # a client's tries at one request while the service is busy
RETRY_PAUSE_SECONDS = 0.5  # between tries (up to twice this, at random)
ALLOWED = {"book": {201, 409, 503}, "waitlist": {201, 409, 503}, "cancel": {200, 409, 503}, "read": {200, 503}}


def say(message: str) -> None:
    print(f"[test-deploy {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


# --- the network ------------------------------------------------------------------------------------


@dataclass
class Host:
    name: str
    namespace: str
    veth_outside: str
    veth_inside: str
    outside_ip: str  # the machine's end of the veth: PostgreSQL and SMTP listen here for this host
    inside_ip: str  # the host's own address: gunicorn listens here
    processes: list[subprocess.Popen] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.inside_ip}:{APP_PORT}"


def _free_subnet_octet() -> int:
    used = sh("ip", "-4", "-o", "addr").stdout
    candidates = list(range(1, 255))
    random.shuffle(candidates)
    for octet in candidates:
        if f"10.231.{octet}." not in used:
            return octet
    raise RuntimeError("no free 10.231.N.0/29 on this machine")


def create_hosts(stack: contextlib.ExitStack) -> tuple[list[Host], str]:
    octet = _free_subnet_octet()
    tag = f"{os.getpid() % 100000}"
    hosts = []
    for index, name in enumerate(("a", "b")):
        base = 4 * index
        host = Host(
            name=name,
            namespace=f"bk{tag}{name}",
            veth_outside=f"bko{tag}{name}",
            veth_inside=f"bki{tag}{name}",
            outside_ip=f"10.231.{octet}.{base + 1}",
            inside_ip=f"10.231.{octet}.{base + 2}",
        )
        sh("ip", "netns", "add", host.namespace)
        stack.callback(sh, "ip", "netns", "del", host.namespace, check=False)
        sh("ip", "link", "add", host.veth_outside, "type", "veth", "peer", "name", host.veth_inside)
        stack.callback(sh, "ip", "link", "del", host.veth_outside, check=False)
        sh("ip", "link", "set", host.veth_inside, "netns", host.namespace)
        sh("ip", "addr", "add", f"{host.outside_ip}/30", "dev", host.veth_outside)
        sh("ip", "link", "set", host.veth_outside, "up")
        inside = ("ip", "netns", "exec", host.namespace)
        sh(*inside, "ip", "addr", "add", f"{host.inside_ip}/30", "dev", host.veth_inside)
        sh(*inside, "ip", "link", "set", host.veth_inside, "up")
        sh(*inside, "ip", "link", "set", "lo", "up")
        hosts.append(host)
        say(f"host {name}: namespace {host.namespace}, {host.inside_ip}/30 <-> {host.outside_ip} ({host.veth_outside})")
    return hosts, f"10.231.{octet}.0/29"


# --- PostgreSQL, reachable from the namespaces ------------------------------------------------------


class NetworkedPostgres(PostgresCluster):
    """tests.support.postgres's cluster, also listening on the host side of each veth (and allowing it)."""

    def __init__(self, addresses: list[str], subnet: str):
        super().__init__(fsync=True)
        self.addresses = addresses
        self.subnet = subnet

    def start(self) -> NetworkedPostgres:
        data = self.dir / "data"
        _as_postgres(
            [str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"]
        )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.subnet} trust\n")
        listen = ",".join(["127.0.0.1", *self.addresses])
        options = f"-c listen_addresses={listen} -p {self.port} -k {self.dir} -c max_connections=200"
        _as_postgres(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.dir / "log"),
                "-w",
                "-t",
                "30",
                "-o",
                options,
                "start",
            ]
        )
        return self

    def restart(self) -> None:
        # -l as at start: without it the new server inherits pg_ctl's output pipes and subprocess waits forever.
        data, log = str(self.dir / "data"), str(self.dir / "log")
        _as_postgres([str(self.bin / "pg_ctl"), "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60", "restart"])

    def url_at(self, address: str, name: str) -> str:
        return f"postgresql://postgres@{address}:{self.port}/{name}"


# --- the SMTP sink ----------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(
                {
                    "message_id": parsed.get("Message-ID", ""),
                    "key": parsed.get("X-Bookings-Message-Key", ""),
                    "to": ",".join(envelope.rcpt_tos),
                    "subject": parsed.get("Subject", ""),
                }
            )
        return "250 Message accepted for delivery"


def start_sinks(stack: contextlib.ExitStack, addresses: list[str]) -> tuple[Sink, int]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    for address in addresses:
        controller = Controller(sink, hostname=address, port=port)
        controller.start()
        stack.callback(controller.stop)
    return sink, port


# --- nginx ------------------------------------------------------------------------------------------


def nginx_site(hosts: list[Host], port: int) -> str:
    """deploy/nginx/bookings.conf with the lines marked `host:` set for this machine."""
    site = (ROOT / "deploy" / "nginx" / "bookings.conf").read_text()
    servers = "\n".join(f"    server {h.inside_ip}:{APP_PORT} max_fails=1 fail_timeout=10s;" for h in hosts)
    replacements = {
        "app": servers,
        "listen": f"    listen 127.0.0.1:{port};",
        "server_name": "    server_name bookings.test;",
        "static": f"        alias {ROOT / 'static'}/;",
        "static-assets": f"        alias {ROOT / 'static' / 'govuk' / 'assets'}/;",
    }
    lines = []
    for line in site.splitlines():
        match = re.search(r"#\s*host:\s*([\w-]+)\s*$", line)
        lines.append(replacements[match.group(1)] if match else line)
    return "\n".join(lines) + "\n"


def start_nginx(stack: contextlib.ExitStack, workdir: Path, hosts: list[Host], port: int) -> Path:
    (workdir / "bookings.conf").write_text(nginx_site(hosts, port))
    access_log = workdir / "nginx-access.log"
    main = f"""
user root;
worker_processes 2;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format deploytest '$status $request_method $uri upstream=$upstream_addr upstream_status=$upstream_status';
    access_log {access_log} deploytest;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {workdir}/bookings.conf;
}}
"""
    (workdir / "nginx.conf").write_text(main)
    check = sh("nginx", "-t", "-c", str(workdir / "nginx.conf"), check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refuses the configuration:\n{check.stderr}")
    process = subprocess.Popen(
        ["nginx", "-c", str(workdir / "nginx.conf")],
        stdout=open(workdir / "nginx.out", "w"),  # noqa: SIM115  closed with the process
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.callback(_stop_group, process)
    wait_for(f"http://127.0.0.1:{port}/static/css/app.css", "nginx")
    return access_log


# --- processes ----------------------------------------------------------------------------------------


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_for(url: str, what: str, timeout: float = 120, want: int = 200) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  our own http URL
                if response.status == want:
                    return
                last = str(response.status)
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read()[:200]!r}"
        except OSError as error:
            last = str(error)
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer {want} at {url} within {timeout:.0f} s (last: {last})")


def app_environment(host: Host, pg: NetworkedPostgres, smtp_port: int, nginx_port: int, secret: str) -> dict:
    return {
        "PATH": f"{VENV_BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        # As deploy/env.example, for this machine.
        "BOOKINGS_ENV": "production",
        "SECRET_KEY": secret,
        "DATABASE_URL": pg.url_at(host.outside_ip, "bookings"),
        "PROXY_FIX_HOPS": "1",
        "PREFERRED_URL_SCHEME": "http",
        "BASE_URL": f"http://127.0.0.1:{nginx_port}",
        "GUNICORN_BIND": f"{host.inside_ip}:{APP_PORT}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        "MAIL_SERVER": host.outside_ip,
        "MAIL_PORT": str(smtp_port),
        "MAIL_DEFAULT_SENDER": "Bookings <no-reply@bookings.test>",
        # Every rush user books once, waits once and cancels at most once; the limit is not under test here.
        "BOOKING_RATE_LIMIT": "1000",
        "HOST_JOBS_INTERVAL": "2",
    }


def start_host(stack: contextlib.ExitStack, host: Host, env: dict, workdir: Path) -> None:
    host.log_path = workdir / f"host-{host.name}.log"
    log = open(host.log_path, "w")  # noqa: SIM115  closed on the way out
    stack.callback(log.close)
    inside = ["ip", "netns", "exec", host.namespace]
    commands = [
        [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
        [str(VENV_BIN / "python"), str(ROOT / "deploy" / "test" / "host_jobs.py")],
    ]
    for command in commands:
        process = subprocess.Popen(
            inside + command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        host.processes.append(process)
        stack.callback(_stop_group, process)


def kill_host(host: Host) -> None:
    """kill -9 of everything the host runs: gunicorn's master and workers, the sweep and mail loop."""
    for process in host.processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in host.processes:
        process.wait(timeout=10)


# --- the rush -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    status: int
    code: str
    user: int
    body: str


class Rush:
    def __init__(self, base_url: str, event_id: int, tokens: list[str]):
        self.base_url = base_url
        self.event_id = event_id
        self.tokens = tokens
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.finished_users = 0
        self.in_flight = 0
        self.booked: dict[int, str] = {}  # user -> reference of a 201
        self.cancelled: set[str] = set()
        self.interrupted_books: set[int] = set()  # users whose booking request met a dead host (nginx 503)
        self.found_after_interruption: set[int] = set()  # ... and whose booking had been made all the same
        self.someone_waits = threading.Event()

    def call(self, user: int, kind: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310  our own http URL
            f"{self.base_url}/api/v1{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"},
        )
        with self.lock:
            self.in_flight += 1
        try:
            try:
                with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310
                    status, raw = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, raw = error.code, error.read()
            except OSError as error:
                status, raw = 0, str(error).encode()
        finally:
            with self.lock:
                self.in_flight -= 1
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {}
        if not isinstance(parsed, dict):
            parsed = {}
        with self.lock:
            self.answers.append(
                Answer(kind, status, str(parsed.get("error", "")), user, raw[:300].decode("utf-8", "replace"))
            )
        return status, parsed

    def retrying(self, user: int, kind: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """A careful client: after 503 `busy` wait and send again; after 503 `unavailable` look first."""
        for attempt in range(MAX_ATTEMPTS):
            status, parsed = self.call(user, kind, method, path, body)
            if status != 503 or attempt == MAX_ATTEMPTS - 1:
                return status, parsed
            if parsed.get("error") == "unavailable" and kind == "book":
                with self.lock:
                    self.interrupted_books.add(user)
                mine = self.my_booking(user)
                if mine is not None:  # it was made: the answer was lost, not the booking
                    with self.lock:
                        self.found_after_interruption.add(user)
                    return 201, mine
            time.sleep(RETRY_PAUSE_SECONDS * (1 + random.random()))
        raise AssertionError("unreachable")

    def my_booking(self, user: int) -> dict | None:
        for _ in range(MAX_ATTEMPTS):
            status, parsed = self.call(user, "read", "GET", "/me/bookings")
            if status == 200:
                found = [b for b in parsed["upcoming"] + parsed["past"] if b["event_id"] == self.event_id]
                return found[0] if found else None
            time.sleep(RETRY_PAUSE_SECONDS * (1 + random.random()))
        raise RuntimeError(f"user {user} could not read their bookings")

    def run_user(self, user: int) -> None:
        attendee = {"name": f"Rush Delegate {user}", "email": f"delegate{user}@rush.example"}
        status, body = self.retrying(
            user, "book", "POST", f"/events/{self.event_id}/bookings", {"attendees": [attendee]}
        )
        if status == 201:
            reference = body["reference"]
            with self.lock:
                self.booked[user] = reference
            if user % CANCEL_EVERY == 0:
                # Cancel once people wait, so the place goes to the waiting list as an offer.
                self.someone_waits.wait(timeout=120)
                status, _ = self.retrying(user, "cancel", "POST", f"/bookings/{reference}/cancel", {"reason": "rush"})
                if status == 200:
                    with self.lock:
                        self.cancelled.add(reference)
        elif status == 409:
            status, _ = self.retrying(user, "waitlist", "POST", f"/events/{self.event_id}/waitlist", {"places": 1})
            if status == 201:
                self.someone_waits.set()
        self.call(user, "read", "GET", "/me/bookings")
        with self.lock:
            self.finished_users += 1

    def run(self, on_progress) -> None:
        users = list(range(len(self.tokens)))
        queue = collections.deque(users)
        queue_lock = threading.Lock()

        def worker() -> None:
            while True:
                with queue_lock:
                    if not queue:
                        return
                    user = queue.popleft()
                self.run_user(user)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(CLIENT_THREADS)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            on_progress(self.finished_users / len(users), self.in_flight)
            time.sleep(0.05)
        for thread in threads:
            thread.join()


# --- set-up and checks in the database ------------------------------------------------------------------


def migrate(env: dict) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


def seed(database_url: str, secret: str) -> tuple[int, list[str]]:
    """The event with the last places and the API users, made with the test factories."""
    from bookings import create_app
    from bookings.extensions import db
    from tests.support.factories import make_api_token, make_event, make_user

    app = create_app(
        "production",
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=database_url.replace("postgresql://", "postgresql+psycopg://"),
        TESTING=True,  # only so that PASSWORD_HASH_FAST applies: these users sign in with API tokens
        PASSWORD_HASH_FAST=True,
    )
    with app.app_context():
        event = make_event(capacity=CAPACITY, title="Safeguarding adults: the last places")
        tokens = [make_api_token(make_user(email=f"booker{n}@rush.example")) for n in range(USERS)]
        event_id = event.id
        db.session.remove()
        db.engine.dispose()
    return event_id, tokens


def query(database_url: str, sql: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(sql, params).fetchall()


# --- the test -------------------------------------------------------------------------------------------


def main() -> int:
    if os.geteuid() != 0:
        print("make test-deploy needs root (network namespaces): sudo make test-deploy", file=sys.stderr)
        return 2
    for tool in ("ip", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y iproute2 nginx (make system-packages)", file=sys.stderr)
            return 2
    failures: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="bookings-deploy-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            failures = run(stack, workdir)
        except BaseException:
            _show_logs(workdir)
            raise
        if failures:
            _show_logs(workdir)
    if failures:
        say("FAILED:")
        for failure in failures:
            say(f"  - {failure}")
        return 1
    say("PASSED")
    return 0


def _show_logs(workdir: Path) -> None:
    for path in sorted(workdir.glob("*.log")) + sorted(workdir.glob("*.out")):
        text = path.read_text(errors="replace").splitlines()
        if path.name == "nginx-access.log":
            continue
        alarming = [line for line in text if '"level": "ERROR"' in line or "Traceback" in line or '"status": 5' in line]
        if alarming:
            print(f"----- {path.name} (errors and 5xx answers, first 30) -----", flush=True)
            print("\n".join(line[:20000] for line in alarming[:30]), flush=True)
        print(f"----- {path.name} (last 40 lines) -----", flush=True)
        print("\n".join(text[-40:]), flush=True)


def run(stack: contextlib.ExitStack, workdir: Path) -> list[str]:
    hosts, subnet = create_hosts(stack)
    host_a, host_b = hosts

    pg = NetworkedPostgres([h.outside_ip for h in hosts], subnet)
    stack.callback(pg.stop)
    pg.start()
    pg.create_database("bookings")
    local_url = pg.url_at("127.0.0.1", "bookings")
    say(f"PostgreSQL on 127.0.0.1, {host_a.outside_ip}, {host_b.outside_ip} port {pg.port}")

    sink, smtp_port = start_sinks(stack, [h.outside_ip for h in hosts])
    say(f"SMTP sink on {host_a.outside_ip}, {host_b.outside_ip} port {smtp_port}")

    secret = secrets.token_hex(32)
    nginx_port = free_port()
    envs = {h.name: app_environment(h, pg, smtp_port, nginx_port, secret) for h in hosts}
    migrate({**envs["a"], "DATABASE_URL": local_url})
    say("flask db upgrade: schema at the migrations' head")
    event_id, tokens = seed(local_url, secret)
    say(f"event {event_id}: {CAPACITY} places; {USERS} API users")

    for host in hosts:
        start_host(stack, host, envs[host.name], workdir)
    for host in hosts:
        wait_for(f"{host.url}/readyz", f"host {host.name}")
        say(f"host {host.name}: gunicorn answers /readyz 200 at {host.url} (inside {host.namespace})")

    access_log = start_nginx(stack, workdir, hosts, nginx_port)
    base_url = f"http://127.0.0.1:{nginx_port}"
    wait_for(f"{base_url}/readyz", "nginx -> app")
    say(f"nginx on {base_url}, balancing {host_a.inside_ip} and {host_b.inside_ip}")

    rush = Rush(base_url, event_id, tokens)
    events: dict[str, float] = {}
    moments: dict[str, tuple[float, int]] = {}  # what was going on when trouble came: (share done, in flight)
    restart_thread: list[threading.Thread] = []

    def on_progress(done: float, in_flight: int) -> None:
        if "kill" not in events and done >= KILL_AT:
            events["kill"] = time.monotonic()
            moments["kill -9 of host a"] = (done, in_flight)
            kill_host(host_a)
            say(f"kill -9 host a (gunicorn master, workers, sweep, mail) at {done:.0%} done, {in_flight} in flight")
        if "pg" not in events and done >= PG_RESTART_AT:
            events["pg"] = time.monotonic()
            moments["PostgreSQL restart"] = (done, in_flight)
            line = f"pg_ctl restart -m fast at {done:.0%} done, {in_flight} in flight"

            def restart() -> None:
                started = time.monotonic()
                pg.restart()
                say(f"{line}; PostgreSQL back after {time.monotonic() - started:.1f} s")

            thread = threading.Thread(target=restart)
            thread.start()
            restart_thread.append(thread)

    started = time.monotonic()
    say(f"rush: {USERS} users, {CLIENT_THREADS} at a time, through nginx")
    rush.run(on_progress)
    for thread in restart_thread:
        thread.join()
    duration = time.monotonic() - started
    failures = [
        f"the {what} did not come mid-rush ({done:.0%} done, {in_flight} requests in flight)"
        for what, (done, in_flight) in moments.items()
        if done >= 1 or in_flight == 0
    ]
    return failures + check(rush, hosts, pg, local_url, sink, base_url, access_log, event_id, duration)


def check(rush, hosts, pg, local_url, sink, base_url, access_log, event_id, duration) -> list[str]:
    failures: list[str] = []
    host_b = hosts[1]

    # Every answer in the allowed set.
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for answer in rush.answers:
        by_kind[answer.kind][f"{answer.status}{'/' + answer.code if answer.status == 503 else ''}"] += 1
    statuses = collections.Counter(a.status for a in rush.answers)
    say(f"requests: {len(rush.answers)} in {duration:.1f} s; answers by status: {dict(sorted(statuses.items()))}")
    for kind, counter in sorted(by_kind.items()):
        say(f"  {kind}: {dict(sorted(counter.items()))}")
    wrong = [a for a in rush.answers if a.status not in ALLOWED[a.kind]]
    if wrong:
        failures.append(
            f"{len(wrong)} answers outside the allowed set, e.g. "
            + "; ".join(f"{a.kind} -> {a.status} {a.body[:120]}" for a in wrong[:5])
        )

    # The surviving host keeps serving, directly and through nginx; the dead one is dead.
    try:
        wait_for(f"{host_b.url}/readyz", "host b after the trouble", timeout=30)
        wait_for(f"{base_url}/readyz", "nginx after the trouble", timeout=30)
        after = [rush.call(0, "read", "GET", "/me/bookings")[0] for _ in range(20)]
        if set(after) != {200}:
            failures.append(f"after the trouble, GET /me/bookings through nginx answered {collections.Counter(after)}")
        say(
            f"after the trouble: host b /readyz 200, 20 of 20 reads through nginx answered {collections.Counter(after)}"
        )
    except RuntimeError as error:
        failures.append(str(error))
    upstreams = collections.Counter()
    for line in access_log.read_text().splitlines():
        # $upstream_addr lists every host nginx tried for the request ("a, b" or "a : b").
        upstreams.update(re.findall(r"\d+\.\d+\.\d+\.\d+:\d+", line.split("upstream=", 1)[-1]))
    say(f"nginx sent requests to: {dict(upstreams)}")
    if not all(upstreams.get(f"{h.inside_ip}:{APP_PORT}") for h in hosts):
        failures.append(f"nginx did not balance over both hosts: {dict(upstreams)}")

    # Wait (bounded) for host b's sweep and mail delivery to empty the outbox of what is due.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            (due,) = query(
                local_url, "SELECT count(*) FROM outbox_message WHERE status = 'pending' AND next_attempt_at <= now()"
            )[0]
        except Exception:
            due = -1
        if due == 0:
            break
        time.sleep(1)

    # No overbooking.
    (taken,) = query(
        local_url,
        "SELECT count(*) FROM attendee a JOIN booking b ON b.id = a.booking_id "
        "WHERE b.event_id = %s AND a.status = 'active' "
        "AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > now()))",
        event_id,
    )[0]
    (offered,) = query(
        local_url,
        "SELECT coalesce(sum(places), 0) FROM waitlist_entry WHERE event_id = %s AND status = 'offered' "
        "AND offer_expires_at > now()",
        event_id,
    )[0]
    say(f"places: {CAPACITY}; sold (confirmed) {taken}; offered to the waiting list {offered}")
    if taken + offered > CAPACITY:
        failures.append(f"OVERBOOKED: {taken} taken + {offered} offered > {CAPACITY}")
    (over,) = query(local_url, "SELECT count(*) FROM booking WHERE is_over_capacity")[0]
    if over:
        failures.append(f"{over} bookings are flagged over capacity")

    # No confirmed booking lost: every 201 is in the database, confirmed unless we cancelled it.
    rows = dict(query(local_url, "SELECT reference, status FROM booking WHERE event_id = %s", event_id))
    lost = [
        ref for ref in rush.booked.values() if rows.get(ref) != ("cancelled" if ref in rush.cancelled else "confirmed")
    ]
    if lost:
        failures.append(f"{len(lost)} bookings answered 201 are not as answered in the database: {lost[:5]}")
    say(
        f"bookings answered 201: {len(rush.booked)}, all in the database as answered: {not lost}; "
        f"cancelled by their bookers: {len(rush.cancelled)}"
    )
    say(
        f"booking requests cut off by the kill (503 unavailable): {len(rush.interrupted_books)}; "
        f"found made when the client looked: {len(rush.found_after_interruption)}"
    )

    # No email or offer sent twice.
    ids = collections.Counter(m["message_id"] for m in sink.messages)
    twice = {k: n for k, n in ids.items() if n > 1}
    if twice:
        failures.append(f"emails delivered more than once: {twice}")
    outbox = collections.Counter(
        dict(
            (status, n) for status, n in query(local_url, "SELECT status, count(*) FROM outbox_message GROUP BY status")
        )
    )
    kinds = dict(query(local_url, "SELECT kind, count(*) FROM outbox_message GROUP BY kind ORDER BY kind"))
    duplicates = query(
        local_url,
        "SELECT kind, to_address, booking_reference, count(*) FROM outbox_message "
        "WHERE booking_reference IS NOT NULL OR kind = 'waitlist_offer' "
        "GROUP BY kind, to_address, booking_reference HAVING count(*) > 1",
    )
    if duplicates:
        failures.append(f"the same email written twice to the outbox: {duplicates[:5]}")
    offers = query(
        local_url,
        "SELECT count(*), count(DISTINCT user_id) FROM waitlist_entry WHERE event_id = %s AND offered_at IS NOT NULL",
        event_id,
    )[0]
    if offers[0] == 0:
        failures.append("no waiting-list offer was made: the rush did not exercise offers")
    sink_offers = collections.Counter(m["to"] for m in sink.messages if m["subject"].startswith("Places are free"))
    if any(n > 1 for n in sink_offers.values()):
        failures.append(f"an offer was emailed twice: {sink_offers.most_common(3)}")
    unknown = [m for m in sink.messages if not m["key"]]
    if unknown:
        failures.append(f"{len(unknown)} emails without a message key")
    say(f"outbox by kind: {kinds}; by status: {dict(outbox)}")
    say(
        f"emails received by the SMTP sink: {len(sink.messages)} ({len(ids)} distinct Message-IDs); "
        f"waiting-list offers made {offers[0]} (to {offers[1]} people), "
        f"offer emails received {sum(sink_offers.values())}"
    )
    if outbox.get("sending"):
        say(
            f"  {outbox['sending']} claimed by a sender that died (the killed host or the restart); "
            "they are retried after the outbox's claim timeout (10 minutes), with the same Message-ID"
        )
    return failures


if __name__ == "__main__":
    sys.exit(main())
