"""A real systemd, booted as PID 1 of a throwaway machine made from this one, for `make test-systemd`.

`SystemdSandbox` starts `/lib/systemd/systemd --system` inside new PID, mount, network, UTS, IPC and
cgroup namespaces (see systemd_sandbox_init.sh for the machine it builds): this machine's / seen
through an overlay whose writes land in a tmpfs, its own loopback network, its own cgroup subtree.
Inside, systemd boots multi-user.target as on a fresh Debian (nginx and PostgreSQL start, being
installed and enabled here); the walk-through then talks to it with `systemctl` through `nsenter`.

Nothing leaks to the host: users, files, units, PostgreSQL's data and the listening ports exist only
inside; on the way out systemd powers off (or its PID namespace is killed), the cgroup subtree is
removed and so is the temporary directory. Commands may also run in the sandbox's files but on the
host's network (`network="host"`), as a newcomer's machine would reach the package mirrors.
"""

# ruff: noqa: S603  a test harness: it runs fixed commands (unshare, nsenter) it names itself

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

INIT_SCRIPT = Path(__file__).resolve().with_name("systemd_sandbox_init.sh")
CHECKOUT = Path(__file__).resolve().parents[2]  # bound read-only into the sandbox at the same path
CGROUP_HIERARCHIES = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))
PR_SET_PDEATHSIG = 1
LOGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class SandboxError(RuntimeError):
    pass


class SystemdSandbox:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bookings-systemd-"))
        self.cgroup_name = f"bookings-systemd-{os.getpid()}-{self.dir.name.rsplit('-', 1)[-1]}"
        self.unshare: subprocess.Popen | None = None
        self.pid: int | None = None  # systemd's PID as seen from the host

    # --- start and stop --------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> SystemdSandbox:
        remove_stale_cgroups()
        (self.dir / "root").mkdir()
        (self.dir / "rw").mkdir()
        (self.dir / "console").touch()
        for hierarchy in CGROUP_HIERARCHIES:
            (hierarchy / self.cgroup_name).mkdir()
        cgroups = " ".join(str(h / self.cgroup_name / "cgroup.procs") for h in CGROUP_HIERARCHIES)
        # The shell moves itself into the sandbox's cgroups, then becomes unshare, whose child runs the init script.
        command = (
            f'for f in {cgroups}; do echo $$ > "$f"; done; '
            "exec unshare --cgroup --pid --fork --kill-child=SIGKILL --mount --net --uts --ipc --propagation private "
            f'/bin/bash {INIT_SCRIPT} "{self.dir}" "{CHECKOUT}"'
        )
        with open(self.dir / "boot.log", "wb") as log:
            self.unshare = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # the test has no threads, so preexec_fn is safe
            )
        deadline = time.monotonic() + timeout
        while self.pid is None:
            self.pid = self._systemd_pid()
            if self.pid is None:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise SandboxError(f"systemd did not start:\n{self.boot_log()}")
                time.sleep(0.1)
        state = ""
        while time.monotonic() < deadline:
            self._check_alive()
            state = self.run(["systemctl", "is-system-running"], check=False).stdout.strip()
            if state in ("running", "degraded"):
                return self
            time.sleep(0.3)
        raise SandboxError(f"systemd did not finish booting (state {state!r}):\n{self.boot_log()}")

    def _systemd_pid(self) -> int | None:
        """unshare's child: the init script, which execs systemd (its comm then reads `systemd`)."""
        assert self.unshare is not None
        children = Path(f"/proc/{self.unshare.pid}/task/{self.unshare.pid}/children")
        try:
            pids = children.read_text().split()
            if pids and Path(f"/proc/{pids[0]}/comm").read_text().strip() == "systemd":
                return int(pids[0])
        except OSError:
            pass
        return None

    def _check_alive(self) -> None:
        assert self.unshare is not None
        if self.unshare.poll() is not None:
            raise SandboxError(f"the sandbox ended (exit {self.unshare.returncode}):\n{self.boot_log()}")

    def boot_log(self) -> str:
        try:
            return (self.dir / "boot.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> list[str]:
        """Power off, or kill the whole PID namespace; remove the cgroups and the directory. Returns problems."""
        problems: list[str] = []
        if self.unshare is not None and self.unshare.poll() is None:
            if self.pid is not None:
                self.run(["systemctl", "poweroff", "--no-block"], check=False, timeout=20)
            try:
                self.unshare.wait(timeout=30)
            except subprocess.TimeoutExpired:
                problems.append("systemd did not power off within 30 s: its PID namespace was killed")
                if self.pid is not None:
                    # SIGKILL to a PID namespace's init kills every process in the namespace.
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.pid, signal.SIGKILL)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.unshare.pid, signal.SIGKILL)
                self.unshare.wait(timeout=30)
        for hierarchy in CGROUP_HIERARCHIES:
            problems += _remove_cgroup(hierarchy / self.cgroup_name)
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems

    def __enter__(self) -> SystemdSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- running commands inside -----------------------------------------------------------------

    def command(self, argv: list[str], *, network: str = "sandbox", env: dict[str, str] | None = None) -> list[str]:
        """argv run inside the sandbox (files, processes, cgroups; its network unless network="host")."""
        assert self.pid is not None
        namespaces = ["--mount", "--uts", "--ipc", "--pid", "--cgroup"]
        if network == "sandbox":
            namespaces.append("--net")
        environment = env if env is not None else login_environment()
        return [
            "nsenter",
            f"--target={self.pid}",
            *namespaces,
            "--root",
            "--wd",
            "/usr/bin/env",
            "-i",
            *(f"{key}={value}" for key, value in environment.items()),
            *argv,
        ]

    def run(
        self,
        argv: list[str],
        *,
        check: bool = True,
        network: str = "sandbox",
        env: dict[str, str] | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.command(argv, network=network, env=env),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and result.returncode != 0:
            raise SandboxError(
                f"{' '.join(argv)} failed in the sandbox (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result


def _die_with_parent() -> None:
    """If the test is killed outright, unshare gets SIGKILL; --kill-child passes it to systemd (the whole sandbox)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def login_environment() -> dict[str, str]:
    """What a root login shell on a fresh machine has: no variables from whoever runs the test."""
    return {"PATH": LOGIN_PATH, "HOME": "/root", "USER": "root", "LOGNAME": "root", "LANG": "C.UTF-8", "TERM": "dumb"}


def remove_stale_cgroups() -> None:
    """Empty cgroups left by an earlier run that was killed outright (named after its test's PID, now gone)."""
    for hierarchy in CGROUP_HIERARCHIES:
        for path in hierarchy.glob("bookings-systemd-*-*"):
            owner = path.name.split("-")[2]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                _remove_cgroup(path)  # rmdir fails, harmlessly, on a cgroup that still has processes


def _remove_cgroup(path: Path) -> list[str]:
    if not path.exists():
        return []
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            child.rmdir()
    try:
        path.rmdir()
    except OSError as error:
        return [f"cgroup {path} not removed: {error}"]
    return []
