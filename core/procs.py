"""Child processes of the lab supervisor.

Every long-lived child (Envoy, PostgreSQL, shop pods) is started through :func:`spawn`, which makes the
kernel kill it when the supervisor dies (``PR_SET_PDEATHSIG``), so a killed supervisor leaves nothing behind.
The death signal fires when the *thread* that forked the child ends, so every spawn happens on one
long-lived spawner thread, whatever thread asks for it.

PostgreSQL refuses to run as root: :func:`service_user` names the unprivileged account to use then.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import pwd
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


@dataclass(frozen=True)
class ServiceUser:
    """The account a child runs as (``None`` fields: the current user)."""

    name: str | None
    uid: int | None
    gid: int | None


def service_user() -> ServiceUser:
    """``nobody`` when we are root (PostgreSQL refuses root), else the current user."""
    if os.geteuid() != 0:
        return ServiceUser(None, None, None)
    entry = pwd.getpwnam("nobody")
    return ServiceUser("nobody", entry.pw_uid, entry.pw_gid)


def _identity(user: ServiceUser | None) -> tuple[int | None, int | None, list[int] | None]:
    if user is None or user.uid is None:
        return None, None, None
    return user.uid, user.gid, []


def _child_setup(parent_pid: int) -> Callable[[], None]:
    def setup() -> None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return setup


class _Spawner:
    """One daemon thread that forks every child, so the death signal is tied to the process lifetime."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]]
        self._jobs = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lab-spawner", daemon=True)
                self._thread.start()
        done: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((start, done))
        return done.result()

    def _run(self) -> None:
        while True:
            start, done = self._jobs.get()
            try:
                done.set_result(start())
            except BaseException as exc:  # handed back to the caller's thread
                done.set_exception(exc)


_spawner = _Spawner()


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: ServiceUser | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-lived child that dies with this process. Output goes to ``log_path`` (or nowhere)."""
    parent = os.getpid()
    full_env = dict(os.environ if env is None else env)

    def start() -> subprocess.Popen[bytes]:
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            uid, gid, groups = _identity(user)
            return subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd,
                preexec_fn=_child_setup(parent),
                user=uid,
                group=gid,
                extra_groups=groups,
            )
        finally:
            if log_path:
                log.close()  # type: ignore[union-attr]

    return _spawner.submit(start)


def run(
    argv: Sequence[str],
    *,
    user: ServiceUser | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a short command to completion (optionally as ``user``); raise on failure when ``check``."""
    uid, gid, groups = _identity(user)
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=True,
        env=dict(os.environ if env is None else env),
        timeout=timeout,
        check=check,
        stdin=subprocess.DEVNULL,
        user=uid,
        group=gid,
        extra_groups=groups,
    )


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; empty when it is gone)."""
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, children first (from /proc; empty when it is gone)."""
    found: list[int] = []
    frontier = [pid]
    while frontier:
        kids = children_of(frontier.pop())
        found.extend(kids)
        frontier.extend(kids)
    return found


def crash(pid: int) -> None:
    """Crash a process and its direct children for real: freeze it, kill the children, kill it.

    PostgreSQL children call setsid(), so killing the process group would miss them.
    """
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for child in children_of(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def stop(proc: subprocess.Popen[bytes], *, grace: float = 3.0, sig: int = signal.SIGTERM) -> int | None:
    """Ask a child to stop, wait up to ``grace`` seconds, then kill it. Returns its exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it returns True or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    return True
