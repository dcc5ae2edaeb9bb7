"""The systemd test (`make test-systemd`, as root): docs/deployment.md followed to the letter under a real systemd.

A newcomer's Debian machine is made from this one: systemd boots as PID 1 of a sandbox (its own PID,
mount, network and cgroup namespaces; this machine's files seen through an overlay whose writes vanish
afterwards; see systemd_sandbox.py). nginx and PostgreSQL start in it as on a fresh Debian. An SMTP
sink stands in for the machine's mail server on port 25.

Then every `sh` block of the sections "One machine, step by step" and "A release" of docs/deployment.md
(as committed: the walk-through clones the repository) runs as root in the sandbox, in order, in
the directory the previous block ended in, failing on the first command that fails. Only these are
changed, and each is printed:
- `<repository>` becomes this checkout as a file:// URL, `<a password ...>` a made-up password;
- lines that open an editor are skipped (the example settings serve one machine as they are), and so
  are the lines about certbot (TLS needs a public name);
- blocks that fetch packages (`apt-get install`, `make install`) reach the outside through this
  machine's network; all others run on the sandbox's own, where nginx listens on port 80.

Afterwards it checks, through nginx on the sandbox's port 80: /readyz answers 200; an event created
through the API is on the catalogue page (so the page came from PostgreSQL); a static file is served
by nginx itself, not gunicorn; gunicorn runs as `bookings` under bookings.service; the sweep timer has
fired and the sweep succeeded; a booking's confirmation email reaches the SMTP sink through
bookings-mail.service; bookings-backup.service writes a pg_dump that holds the event, and the doc's
"Backups" block restores it; each line of deploy/crontab works when run as cron would run it; the
release's `systemctl reload bookings` reached gunicorn without a restart; no unit logged an error;
`systemd-analyze verify` accepts the units. It prints what it did and what it saw (secrets masked),
and exits non-zero on any failure. It takes about two minutes, up to one of which is waiting for the
sweep timer.

TEST_UNCOMMITTED=1 copies the working tree's deploy/ and docs/deployment.md over the clone (and reads
the doc from the working tree), for trying changes before committing them.
"""

# ruff: noqa: S603, S607  a test harness: it runs fixed commands (git, systemctl, curl) it names itself

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systemd_sandbox import SandboxError, SystemdSandbox

ROOT = Path(__file__).resolve().parents[2]
DOC = "docs/deployment.md"
SECTIONS = ("One machine, step by step", "A release")  # the walk-through
RESTORE_SECTION = "Backups"  # its restore, run once a backup exists
APP_DIR = "/srv/bookings/current"
SINK_DIR = "/var/lib/smtp-sink"
SINK_PYTHON = ROOT / ".venv" / "bin" / "python"  # aiosmtpd is a test dependency of this checkout
ADMIN_EMAIL = "you@council.example"  # as in the doc
EVENT_TITLE = f"Records management for team leaders {secrets.token_hex(3)}"
DELEGATE_EMAIL = "delegate@nhs.example"
SWEEP_WAIT_SECONDS = 100  # the sweep timer fires on every minute
MAIL_WAIT_SECONDS = 60  # bookings-mail.timer fires every 15 s
SWEEP_CLEARANCE_SECONDS = 30  # two mail runs fit before the next sweep


def say(message: str) -> None:
    print(f"[test-systemd {time.strftime('%H:%M:%S')}] {message}", flush=True)


def indent(text: str, lines: int = 30) -> str:
    kept = text.rstrip().splitlines()
    cut = len(kept) - lines
    shown = ([f"    ... ({cut} lines above)"] if cut > 0 else []) + [f"    {line}" for line in kept[-lines:]]
    return "\n".join(shown)


# --- the walk-through, read from the doc -----------------------------------------------------------------


@dataclass
class Block:
    section: str
    step: str
    text: str  # as in the doc
    script: str = ""  # what runs
    skipped: tuple[str, ...] = ()
    network: str = "sandbox"


PLACEHOLDER = re.compile(r"<[a-z][^<>]*>")


def walkthrough(doc: str, repository: str, admin_password: str, sections=SECTIONS) -> list[Block]:
    """The sh blocks of the sections, in order, with the documented substitutions made."""
    blocks: list[Block] = []
    for section in sections:
        match = re.search(rf"^## {re.escape(section)}.*?$(.*?)(?=^## |\Z)", doc, re.M | re.S)
        if match is None:
            raise SystemExit(f"{DOC} has no section '## {section}'")
        step = section
        for part in re.split(r"(```sh\n.*?```)", match.group(1), flags=re.S):
            if not part.startswith("```sh"):
                if found := re.findall(r"^\s*(\d+\. \*\*[^*]+\*\*)", part, re.M):
                    step = found[-1].replace("**", "")
                continue
            text = "\n".join(line.strip() for line in part[len("```sh\n") : -3].strip().splitlines())
            blocks.append(_prepare(Block(section, step, text), repository, admin_password))
    return blocks


def _prepare(block: Block, repository: str, admin_password: str) -> Block:
    kept, skipped = [], []
    for line in block.text.splitlines():
        if line.startswith("editor ") or "certbot" in line:
            skipped.append(line)
            continue
        line = line.replace("<repository>", repository)
        line = re.sub(r"<a password[^<>]*>", admin_password, line)
        if leftover := PLACEHOLDER.findall(line.split("#")[0]):
            raise SystemExit(f"{DOC}: the test does not know what to put for {leftover} in: {line}")
        kept.append(line)
    block.script = "\n".join(kept)
    block.skipped = tuple(skipped)
    if re.search(r"\bapt-get install\b|\bmake install\b", block.script):
        block.network = "host"
    return block


def run_block(sandbox: SystemdSandbox, block: Block, secrets_seen: set[str]) -> str:
    # A newcomer's shell: the next block starts where the previous one ended (`cd` carries over).
    script = (
        'cd "$(cat /root/.walkthrough-cwd 2>/dev/null || echo /root)"\n'
        "set -euo pipefail -o xtrace\n"
        "export DEBIAN_FRONTEND=noninteractive\n"
        f"{block.script}\n"
        "{ set +o xtrace; } 2>/dev/null; pwd > /root/.walkthrough-cwd\n"
    )
    result = subprocess.run(
        sandbox.command(["bash", "-c", script], network=block.network),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    secrets_seen |= read_secrets(sandbox)
    output = redact(result.stdout, secrets_seen)
    print(indent(output), flush=True)
    if result.returncode != 0:
        raise WalkthroughFailed(f"{block.step}: a command failed (exit {result.returncode}); see its output above")
    return output


def read_secrets(sandbox: SystemdSandbox) -> set[str]:
    """The secrets in /etc/bookings/env once it exists, so that the output shows none of them (xtrace would)."""
    env = sandbox.run(["cat", "/etc/bookings/env"], check=False).stdout
    found = set(re.findall(r"^SECRET_KEY=(\S+)$", env, re.M)) | set(re.findall(r"://[^:/@]+:([^@]+)@", env))
    return {value for value in found if len(value) >= 12}


def redact(text: str, values: set[str]) -> str:
    for value in values:
        text = text.replace(value, "***")
    return text


class WalkthroughFailed(Exception):
    pass


# --- talking to the machine ------------------------------------------------------------------------------

HTTP_CLIENT = """
import json, sys, urllib.request, urllib.error
r = json.load(sys.stdin)
request = urllib.request.Request(r["url"], method=r["method"], headers=r["headers"],
                                 data=r["body"].encode() if r["body"] is not None else None)
try:
    response = urllib.request.urlopen(request, timeout=30)
except urllib.error.HTTPError as error:
    response = error
body = response.read()
print(json.dumps({"status": response.status, "headers": {k.lower(): v for k, v in response.headers.items()},
                  "body": body.decode("utf-8", "replace"), "size": len(body)}))
"""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    size: int

    def json(self) -> dict:
        return json.loads(self.body)


def http(sandbox: SystemdSandbox, method: str, path: str, *, token: str = "", body: dict | None = None) -> Answer:
    """A request to nginx on the sandbox's port 80, made inside the sandbox by Debian's python3."""
    headers = {"Accept": "application/json"} if path.startswith("/api/") else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = {
        "url": f"http://127.0.0.1{path}",
        "method": method,
        "headers": headers,
        "body": json.dumps(body) if body is not None else None,
    }
    result = sandbox.run(["python3", "-c", HTTP_CLIENT], input=json.dumps(request))
    return Answer(**json.loads(result.stdout))


def shell(sandbox: SystemdSandbox, command: str, check: bool = True) -> str:
    return sandbox.run(["bash", "-c", command], check=check).stdout


def as_app_user(sandbox: SystemdSandbox, command: str) -> str:
    """A flask command as the bookings user with /etc/bookings/env, as the units run it."""
    return shell(
        sandbox,
        f"cd {APP_DIR} && set -a && . /etc/bookings/env && set +a && "
        f"runuser -u bookings -- .venv/bin/flask --app wsgi {command}",
    )


def journal(sandbox: SystemdSandbox, unit: str, since: str = "") -> str:
    """The unit's journal as text; since: seconds since the epoch (the sandbox's clock)."""
    return shell(sandbox, f"journalctl -u {unit} -o cat --no-pager {f'--since @{since}' if since else ''}", check=False)


def unit_property(sandbox: SystemdSandbox, unit: str, name: str) -> str:
    return shell(sandbox, f"systemctl show -P {name} {unit}").strip()


def wait_until(what: str, seconds: float, probe) -> object:
    """Polls probe() until it returns something true; the deadline only bounds a hang."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not seen within {seconds:.0f} s")
        time.sleep(1)


class CheckFailed(Exception):
    pass


# --- the checks ------------------------------------------------------------------------------------------


class Checks:
    def __init__(self, sandbox: SystemdSandbox, restore: list[Block], secrets_seen: set[str]) -> None:
        self.sandbox = sandbox
        self.restore = restore
        self.secrets_seen = secrets_seen
        self.failures: list[str] = []
        self.event_id: int | None = None
        self.token = ""

    def check(self, name: str, function) -> None:
        try:
            seen = function()
        except (CheckFailed, SandboxError, AssertionError, KeyError, ValueError) as error:
            self.failures.append(f"{name}: {error}")
            say(f"FAIL {name}: {error}")
        else:
            say(f"ok   {name}: {seen}")

    def all(self) -> list[str]:
        self.check("units pass systemd-analyze verify", self.units_verify)
        self.check("bookings.service runs gunicorn as bookings", self.app_service)
        self.check("/readyz answers 200 through nginx", self.readyz)
        self.check("an event made through the API is on the catalogue page", self.catalogue)
        self.check("nginx serves a static file itself", self.static_file)
        self.check("the sweep timer fired and the sweep succeeded", self.sweep)
        self.check("bookings-mail.timer delivers a confirmation email to the SMTP sink", self.mail)
        self.check("bookings-backup.service writes a pg_dump holding the event", self.backup)
        self.check(f"the backup restores as '## {RESTORE_SECTION}' says", self.restore_backup)
        self.check("bookings-anonymise.timer is set and its service runs", self.anonymise)
        self.check("deploy/crontab's lines work, run as cron runs them", self.crontab)
        self.check("the release's reload reached gunicorn without a restart", self.reload)
        self.check("the units logged no errors", self.no_errors)
        return self.failures

    def units_verify(self) -> str:
        result = self.sandbox.run(
            [
                "bash",
                "-c",
                "systemd-analyze verify /etc/systemd/system/bookings*.service /etc/systemd/system/bookings*.timer",
            ],
            check=False,
        )
        if result.returncode != 0 or result.stderr.strip():
            raise CheckFailed(f"exit {result.returncode}:\n{result.stdout}{result.stderr}")
        return "no complaints about 5 services and 4 timers"

    def app_service(self) -> str:
        state = unit_property(self.sandbox, "bookings.service", "ActiveState")
        pid = unit_property(self.sandbox, "bookings.service", "MainPID")
        assert state == "active", f"bookings.service is {state}"
        users = shell(self.sandbox, f"ps -o user= -o args= --ppid {pid} -p {pid}").strip().splitlines()
        assert users and all(line.split()[0] == "bookings" for line in users), users
        assert any("gunicorn" in line for line in users), users
        return f"active, main PID {pid}, {len(users)} processes all run by bookings: {users[0][:60]}"

    def readyz(self) -> str:
        answer = http(self.sandbox, "GET", "/readyz")
        assert answer.status == 200, f"{answer.status} {answer.body[:200]}"
        assert answer.json().get("status") == "ready", answer.body
        assert answer.headers.get("server", "").startswith("nginx"), answer.headers
        return f"{answer.status} {answer.body.strip()}"

    def catalogue(self) -> str:
        self.token = as_app_user(self.sandbox, f"bookings create-token {ADMIN_EMAIL} --name systemd-test").split()[-1]
        start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
        event = {
            "title": EVENT_TITLE,
            "kind": "course",
            "status": "published",
            "capacity": 12,
            "venue_name": "Civic Centre",
            "venue_address": "1 Civic Square, Exampleton",
            "sessions": [
                {"title": "Day 1", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=7)).isoformat()}
            ],
            "ticket_types": [{"name": "Free", "price_pence": 0}],
        }
        created = http(self.sandbox, "POST", "/api/v1/events", token=self.token, body=event)
        assert created.status == 201, f"POST /api/v1/events: {created.status} {created.body[:300]}"
        self.event_id = created.json()["id"]
        page = http(self.sandbox, "GET", "/")
        assert page.status == 200, f"GET /: {page.status}"
        assert EVENT_TITLE in page.body, f"GET /: {EVENT_TITLE!r} is not on the page"
        rows = shell(
            self.sandbox,
            f"runuser -u postgres -- psql -d bookings -Atc \"SELECT id FROM event WHERE title = '{EVENT_TITLE}'\"",
        )
        assert rows.split() == [str(self.event_id)], f"PostgreSQL has {rows!r} for the event"
        return f"event {self.event_id} made (201), in PostgreSQL's event table, and on GET / ({page.size} bytes)"

    def static_file(self) -> str:
        path = "/static/css/app.css"
        answer = http(self.sandbox, "GET", path)
        assert answer.status == 200, f"GET {path}: {answer.status}"
        on_disk = shell(self.sandbox, f"wc -c < {APP_DIR}{path}").strip()
        assert str(answer.size) == on_disk, f"{answer.size} bytes served, {on_disk} on disk"
        assert answer.headers.get("cache-control") == "public" and "expires" in answer.headers, answer.headers
        # Every answer that went through gunicorn carries nginx's X-Request-ID and leaves a JSON line in the
        # app's log with its route; a file nginx served itself has neither.
        assert "x-request-id" not in answer.headers, "the answer went through the proxy location"

        def app_log_with_the_catalogue_request() -> str:
            text = journal(self.sandbox, "bookings.service")
            return text if '"path": "/"' in text else ""

        log = wait_until(
            "GET / in the app's request log (without it, the log's silence about /static/ proves nothing)",
            30,
            app_log_with_the_catalogue_request,
        )
        assert "/static/" not in log, "gunicorn logged a request for /static/"
        return (
            f"{path}: 200, {answer.size} bytes as on disk, Cache-Control public, no X-Request-ID, not in the app's log"
        )

    def sweep(self) -> str:
        def fired() -> str:
            lines = re.findall(r"^holds_expired=.*$", journal(self.sandbox, "bookings-sweep.service"), re.M)
            state = unit_property(self.sandbox, "bookings-sweep.service", "ActiveState")
            return lines[-1] if lines and state in ("inactive", "failed") else ""  # Result is known once it ends

        line = wait_until("a sweep line in journalctl -u bookings-sweep", SWEEP_WAIT_SECONDS, fired)
        result = unit_property(self.sandbox, "bookings-sweep.service", "Result")
        last = unit_property(self.sandbox, "bookings-sweep.timer", "LastTriggerUSec")
        assert result == "success", f"bookings-sweep.service Result={result}"
        assert last and last != "n/a", f"bookings-sweep.timer LastTriggerUSec={last}"
        return f"timer last fired {last}; journal: {line}"

    def mail(self) -> str:
        assert self.event_id is not None, "no event (the catalogue check failed)"
        self.clear_of_the_sweep()
        booked_at = shell(self.sandbox, "date +%s").strip()
        booking = http(
            self.sandbox,
            "POST",
            f"/api/v1/events/{self.event_id}/bookings",
            token=self.token,
            body={"attendees": [{"name": "Dana Delegate", "email": DELEGATE_EMAIL}]},
        )
        assert booking.status == 201, f"booking: {booking.status} {booking.body[:300]}"
        reference = booking.json()["reference"]

        def delivered() -> list[str]:
            found = shell(self.sandbox, f"grep -l -r -F {reference} {SINK_DIR}/new {SINK_DIR}/cur", check=False)
            return found.split()

        def sent_by_the_mail_unit() -> list[str]:
            # The sink has the message a moment before the run that sent it logs its count.
            mail_log = journal(self.sandbox, "bookings-mail.service", since=booked_at)
            return re.findall(r"^sent=([1-9]\d*) ", mail_log, re.M)

        files = wait_until(f"an email naming {reference} in the sink's Maildir", MAIL_WAIT_SECONDS, delivered)
        sent = wait_until(
            "bookings-mail.service logging sent=1 or more since the booking (did the sweep send it?)",
            MAIL_WAIT_SECONDS,
            sent_by_the_mail_unit,
        )
        message = shell(self.sandbox, f"cat {files[0]}")
        subject = re.search(r"^Subject: (.*)$", message, re.M)
        recipient = re.search(r"^To: (.*)$", message, re.M)
        return (
            f"booking {reference} (201); {len(files)} message(s) in the sink, To: "
            f"{recipient.group(1) if recipient else '?'}, Subject: {subject.group(1) if subject else '?'}; "
            f"bookings-mail.service logged sent={','.join(sent)}"
        )

    def clear_of_the_sweep(self) -> None:
        """The sweep sends due mail too: book where the next sweep is far enough off for the mail timer to win."""
        last = unit_property(self.sandbox, "bookings-sweep.timer", "LastTriggerUSec")
        next_sweep = unit_property(self.sandbox, "bookings-sweep.timer", "NextElapseUSecRealtime")
        if next_sweep:  # empty while a sweep runs
            left = int(shell(self.sandbox, f'echo $(( $(date -d "{next_sweep}" +%s) - $(date +%s) ))').strip())
            if left >= SWEEP_CLEARANCE_SECONDS:
                return
            say(f"  the next sweep is {left} s off: booking after it")
            time.sleep(max(left, 0) + 1)
        else:
            say("  a sweep is running: booking after it")

        def sweep_done() -> bool:
            state = unit_property(self.sandbox, "bookings-sweep.service", "ActiveState")
            triggered = unit_property(self.sandbox, "bookings-sweep.timer", "LastTriggerUSec")
            return state == "inactive" and (triggered != last or not next_sweep)

        wait_until("the sweep finishing", 90, sweep_done)

    def backup(self) -> str:
        shell(self.sandbox, "systemctl start bookings-backup.service")
        dumps = shell(self.sandbox, "ls -1 /var/backups/bookings/").split()
        assert len(dumps) == 1 and dumps[0].endswith(".dump"), dumps
        dump = f"/var/backups/bookings/{dumps[0]}"
        owner = shell(self.sandbox, f"stat -c %U {dump}").strip()
        data = shell(self.sandbox, f"pg_restore --data-only --table=event --file=- {dump}")
        assert EVENT_TITLE in data, "the event's row is not in the dump"
        size = shell(self.sandbox, f"stat -c %s {dump}").strip()
        return f"{dump} ({size} bytes, owner {owner}); pg_restore reads it and the event's row is in it"

    def anonymise(self) -> str:
        enabled = unit_property(self.sandbox, "bookings-anonymise.timer", "UnitFileState")
        assert enabled == "enabled", f"bookings-anonymise.timer is {enabled}"
        shell(self.sandbox, "systemctl start bookings-anonymise.service")
        result = unit_property(self.sandbox, "bookings-anonymise.service", "Result")
        assert result == "success", f"bookings-anonymise.service: {result}"
        line = re.search(r"events=\d+ bookings=\d+ attendees=\d+", journal(self.sandbox, "bookings-anonymise.service"))
        assert line, "bookings-anonymise.service logged no report"
        return f"timer enabled; one run succeeded: {line.group(0)}"

    def restore_backup(self) -> str:
        outputs = []
        for block in self.restore:
            say(f"  running the {RESTORE_SECTION} block of {DOC}")
            try:
                outputs.append(run_block(self.sandbox, block, self.secrets_seen))
            except WalkthroughFailed as error:
                raise CheckFailed(str(error)) from None
        counted = re.search(r"^\s*events\s*\n-+\n\s*(\d+)\s*$", "\n".join(outputs), re.M)
        assert counted, "no event count in the output"
        assert int(counted.group(1)) >= 1, f"{counted.group(1)} events in the restored database"
        return f"restored into bookings_restore with {counted.group(1)} event(s), then dropped"

    def crontab(self) -> str:
        """Each line of deploy/crontab run as cron would: its user, SHELL and PATH, `\\%` read as `%`."""
        text = shell(self.sandbox, f"cat {APP_DIR}/deploy/crontab")
        variables = dict(re.findall(r"^([A-Z]+)=(.*)$", text, re.M))
        lines = [line for line in text.splitlines() if re.match(r"^[0-9*]", line)]
        shell(self.sandbox, "install -d -o bookings -g bookings /var/log/bookings")  # as the doc says
        shell(self.sandbox, "touch /run/crontab-check-start")  # the dump must be newer than this
        for line in lines:
            fields = line.split(None, 6)
            user, command = fields[5], fields[6]
            assert "%" not in command.replace("\\%", ""), f"an unescaped % (cron's newline) in: {command}"
            environment = {
                "SHELL": variables.get("SHELL", "/bin/sh"),
                "PATH": variables.get("PATH", "/usr/bin:/bin"),
                "HOME": "/srv/bookings",
                "LOGNAME": user,
                "USER": user,
            }
            result = self.sandbox.run(
                ["/usr/sbin/runuser", "-u", user, "--", environment["SHELL"], "-c", command.replace("\\%", "%")],
                env=environment | {"LANG": "C.UTF-8"},
                check=False,
            )
            assert result.returncode == 0, f"exit {result.returncode}: {command}\n{result.stdout}{result.stderr}"
        logs = {
            name: shell(self.sandbox, f"cat /var/log/bookings/{name}.log", check=False)
            for name in ("sweep", "mail", "backup", "anonymise")
        }
        assert re.search(r"^holds_expired=\d+", logs["sweep"], re.M), f"sweep.log: {logs['sweep'][-300:]!r}"
        assert re.search(r"^sent=\d+ failed=0", logs["mail"], re.M), f"mail.log: {logs['mail'][-300:]!r}"
        assert not logs["backup"].strip(), f"backup.log: {logs['backup'][-300:]!r}"
        assert re.search(r"^events=\d+ ", logs["anonymise"], re.M), f"anonymise.log: {logs['anonymise'][-300:]!r}"
        new_dumps = shell(self.sandbox, "find /var/backups/bookings -name '*.dump' -newer /run/crontab-check-start")
        assert new_dumps.split(), "the backup line wrote no dump"
        return f"{len(lines)} lines ran as bookings: sweep, mail and anonymise logs show a run, a new dump was written"

    def reload(self) -> str:
        restarts = unit_property(self.sandbox, "bookings.service", "NRestarts")
        log = journal(self.sandbox, "bookings.service")
        assert re.search(r"Handling signal: hup", log, re.I), "gunicorn never logged the HUP"
        assert restarts == "0", f"NRestarts={restarts}"
        return "gunicorn logged 'Handling signal: hup'; NRestarts=0"

    def no_errors(self) -> str:
        units = (
            "bookings.service",
            "bookings-sweep.service",
            "bookings-mail.service",
            "bookings-backup.service",
            "bookings-anonymise.service",
        )
        lines = [line for unit in units for line in journal(self.sandbox, unit).splitlines()]
        errors = [line for line in lines if re.search(r'"level": "(ERROR|CRITICAL)"|Traceback|^ERROR|error:', line)]
        assert not errors, "\n".join(errors[:10])
        return f"{len(lines)} journal lines from {len(units)} units, none an error"


# --- the run ----------------------------------------------------------------------------------------------


def source_tree() -> tuple[str, str]:
    """The doc as the clone will have it, and a description of what is tested."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    if os.environ.get("TEST_UNCOMMITTED") == "1":
        return (
            ROOT / DOC
        ).read_text(), f"commit {commit.stdout.strip()[:12]} with the working tree's deploy/ and {DOC}"
    doc = subprocess.run(["git", "-C", str(ROOT), "show", f"HEAD:{DOC}"], capture_output=True, text=True, check=True)
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "deploy", DOC], capture_output=True, text=True
    ).stdout.strip()
    note = f" (not tested, uncommitted: {' '.join(line[3:] for line in dirty.splitlines())})" if dirty else ""
    return doc.stdout, f"commit {commit.stdout.strip()[:12]}{note}"


def overlay_working_tree(sandbox: SystemdSandbox) -> None:
    """TEST_UNCOMMITTED=1: after `git clone`, the working tree's deploy/ and doc replace the committed ones."""
    shell(sandbox, f"cp -r {ROOT}/deploy/. {APP_DIR}/deploy/ && cp {ROOT}/{DOC} {APP_DIR}/{DOC}")


def start_sink(sandbox: SystemdSandbox) -> None:
    """The machine's mail server for the test: aiosmtpd writing a Maildir, a transient unit on 127.0.0.1:25."""
    sandbox.run(
        [
            "systemd-run",
            "--unit=smtp-sink",
            "--description=SMTP sink for the systemd test",
            str(SINK_PYTHON),
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            "127.0.0.1:25",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            SINK_DIR,
        ]
    )
    wait_until("the SMTP sink listening on 127.0.0.1:25", 30, lambda: ":25 " in shell(sandbox, "ss -ltnH", check=False))


def run(sandbox: SystemdSandbox) -> list[str]:
    doc, tested = source_tree()
    admin_password = secrets.token_hex(12)
    blocks = walkthrough(doc, f"file://{ROOT}", admin_password)
    restore = walkthrough(doc, f"file://{ROOT}", admin_password, sections=(RESTORE_SECTION,))
    say(f"testing {tested}")
    started = time.monotonic()
    sandbox.start()
    say(
        f"systemd {sandbox.pid} (host PID) booted in {time.monotonic() - started:.1f} s: "
        + shell(sandbox, "systemctl is-system-running").strip()
    )
    running = shell(sandbox, "systemctl list-units --type=service --state=running --no-legend --plain | cut -d' ' -f1")
    say(f"running at boot: {' '.join(running.split())}")
    start_sink(sandbox)
    say("SMTP sink on 127.0.0.1:25 (smtp-sink.service, Maildir in /var/lib/smtp-sink)")
    substitutions = f"<repository> = file://{ROOT}, admin password made up"
    say(f"walk-through: {len(blocks)} blocks from {DOC} ({substitutions})")
    secrets_seen = {admin_password}
    for number, block in enumerate(blocks, 1):
        network = "this machine's network" if block.network == "host" else "the sandbox's network"
        say(f"block {number}/{len(blocks)}: {block.section} / {block.step} (on {network})")
        for line in block.skipped:
            say(f"  skipped: {line}")
        run_block(sandbox, block, secrets_seen)
        if "git clone" in block.script and os.environ.get("TEST_UNCOMMITTED") == "1":
            overlay_working_tree(sandbox)
            say("  TEST_UNCOMMITTED=1: the working tree's deploy/ and doc copied over the clone")
    say(f"walk-through done in {time.monotonic() - started:.0f} s; checking")
    failures = Checks(sandbox, restore, secrets_seen).all()
    say(
        "timers: "
        + " | ".join(shell(sandbox, "systemctl list-timers 'bookings*' --no-legend --plain").strip().splitlines())
    )
    return failures


def show_journal(sandbox: SystemdSandbox) -> None:
    if sandbox.pid is None:
        return
    with contextlib.suppress(Exception):
        say("the sandbox's journal, bookings units and nginx (last 60 lines):")
        print(indent(shell(sandbox, "journalctl -u 'bookings*' -u nginx -u smtp-sink --no-pager", check=False), 60))
        say("nginx's logs in the sandbox (last 20 lines each):")
        print(indent(shell(sandbox, "tail -n 20 /var/log/nginx/access.log /var/log/nginx/error.log", check=False), 45))


def main() -> int:
    if os.geteuid() != 0:
        print(
            "make test-systemd needs root (namespaces, a systemd of its own): sudo make test-systemd", file=sys.stderr
        )
        return 2
    for tool in ("unshare", "nsenter", "pivot_root", "git", "nginx"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (util-linux, git, nginx)", file=sys.stderr)
            return 2
    if not Path("/lib/systemd/systemd").exists() or not Path("/sys/fs/cgroup/systemd").is_dir():
        print("needs /lib/systemd/systemd and the name=systemd cgroup hierarchy", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    sandbox = SystemdSandbox()
    failures: list[str] = []
    try:
        failures = run(sandbox)
    except (WalkthroughFailed, SandboxError, CheckFailed) as error:
        failures = [str(error)]
    finally:
        if failures:
            show_journal(sandbox)
        problems = sandbox.stop()
        for problem in problems:
            say(f"teardown: {problem}")
        say(f"sandbox powered off and removed; {time.monotonic() - started:.0f} s in all")
    if failures:
        say("FAILED:")
        for failure in failures:
            say(f"  - {failure}")
        return 1
    say("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
