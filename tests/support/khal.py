"""khal, a real calendar client, reading our .ics files as a user's calendar would (RECIPES.md).

    calendar = Khal(tmp_path)            # fresh vdir, sqlite cache and config, Europe/London
    calendar.import_ics(ics_bytes)       # khal import --batch
    rows = calendar.list("2027-03-27", "3d")
    rows[0].start == "2027-03-28 09:30"  # local (London) wall-clock time

khal accepts naive (floating) times silently and only warns about a TZID
without a VTIMEZONE, so a test that cares must look at the file itself too.
Use one `Khal` per test: re-importing into the same vdir leaves temporary files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DATE_FORMAT = "%Y-%m-%d"
TIME_FORMAT = "%H:%M"
DATETIME_FORMAT = f"{DATE_FORMAT} {TIME_FORMAT}"
LIST_FORMAT = "{start}|{end}|{title}|{status}|{uid}"
FIELD_SEPARATOR = "|"


class KhalError(RuntimeError):
    pass


def khal_executable() -> str | None:
    """The khal next to this Python (the venv's), else one on PATH; None when khal is not installed."""
    beside = Path(sys.executable).with_name("khal")
    if beside.exists():
        return str(beside)
    return shutil.which("khal")


@dataclass(frozen=True)
class KhalEvent:
    start: str  # "YYYY-MM-DD HH:MM" in local time, or "YYYY-MM-DD" for an all-day event
    end: str
    title: str
    status: str  # khal shows "CANCELLED" for cancelled events, "" for confirmed ones
    uid: str


class Khal:
    """A khal configuration in `directory` with one calendar ("bookings") in a fresh vdir."""

    def __init__(self, directory: Path, *, timezone: str = "Europe/London"):
        executable = khal_executable()
        if executable is None:
            raise KhalError("khal is not installed (pip install khal)")
        self.executable = executable
        self.directory = Path(directory)
        self.vdir = self.directory / "vdir" / "bookings"
        self.vdir.mkdir(parents=True)
        self.config = self.directory / "khal.conf"
        self.config.write_text(
            "[calendars]\n"
            "[[bookings]]\n"
            f"path = {self.vdir}\n"
            "type = calendar\n"
            "[locale]\n"
            f"local_timezone = {timezone}\n"
            f"default_timezone = {timezone}\n"
            f"timeformat = {TIME_FORMAT}\n"
            f"dateformat = {DATE_FORMAT}\n"
            f"longdateformat = {DATE_FORMAT}\n"
            f"datetimeformat = {DATETIME_FORMAT}\n"
            f"longdatetimeformat = {DATETIME_FORMAT}\n"
            "[default]\n"
            "default_calendar = bookings\n"
            "[sqlite]\n"
            f"path = {self.directory / 'khal.db'}\n"
        )

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run `khal -c CONFIG args...`; raises KhalError with khal's output when it fails."""
        result = subprocess.run(
            [self.executable, "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise KhalError(f"khal {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def import_ics(self, ics: bytes | str | Path) -> subprocess.CompletedProcess:
        """Import a calendar file (a path, or its content) without prompts."""
        if isinstance(ics, Path):
            path = ics
        else:
            path = self.directory / "import.ics"
            path.write_bytes(ics.encode() if isinstance(ics, str) else ics)
        return self.run("import", "--batch", str(path))

    def list(self, start: str, span: str = "1d") -> list[KhalEvent]:
        """Events from `start` (YYYY-MM-DD) for `span` (khal's "3d", or an end date), in local time."""
        result = self.run("list", start, span, "--format", LIST_FORMAT, "--day-format", "")
        rows = []
        for line in result.stdout.splitlines():
            if not line.strip():
                continue
            parts = line.split(FIELD_SEPARATOR)
            if len(parts) != 5:
                raise KhalError(f"unexpected khal list line: {line!r}")
            rows.append(KhalEvent(*(part.strip() for part in parts)))
        return rows
