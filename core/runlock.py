"""One run per target at a time: who holds a target, and the lab's lock file.

A run (``aftershock run``, a game day) takes its target's lock before anything is injected and releases it on
every exit. A second run on a locked target gets :class:`~aftershock.core.errors.TargetLocked` (exit code 2)
naming the holder. Each target kind has its own :class:`RunLock`: the lab a lock file in its home
(:class:`FileLock`, here), AWS a lease the whole team sees (``aftershock.faults.aws.lease``).

A game day holds the lock for its steps: each step's ``aftershock run`` is told the game day's run id
(``--under-lock RUN_ID``, :attr:`Holder.under`), and proceeds under its parent's lock when that is the holder.

Example::

    lock = FileLock(Path(target.lab.home) / "run.lock", target="lab")
    held = lock.acquire(Holder.here("20240501T120000Z-az-outage"))
    try:
        ...  # inject, measure, roll back
    finally:
        held.release()
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from aftershock.core.errors import TargetLocked, UsageError
from aftershock.core.procs import pid_alive

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Holder:
    """Who holds a target: the run's id, the host and pid it runs as, and when it took the lock (epoch s)."""

    run_id: str
    host: str
    pid: int
    started_at: float
    under: str | None = None
    """The run id of the parent (a game day) whose lock this run runs under; None: a run of its own."""

    @classmethod
    def here(cls, run_id: str, *, under: str | None = None) -> Holder:
        """This process, now."""
        return cls(run_id=run_id, host=socket.gethostname(), pid=os.getpid(), started_at=time.time(), under=under)

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        """The holder written by :meth:`to_json`; None for anything else (an empty or half-written file)."""
        try:
            data = json.loads(text)
            return cls(run_id=str(data["run_id"]), host=str(data["host"]), pid=int(data["pid"]),
                       started_at=float(data["started_at"]))
        except (ValueError, TypeError, KeyError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @property
    def started(self) -> str:
        """The start time in UTC, e.g. ``2024-05-01 12:00:00 UTC``."""
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started_at))

    def describe(self) -> str:
        return f"run {self.run_id} on {self.host} (pid {self.pid}, started {self.started})"


def locked_error(target: str, holder: Holder) -> TargetLocked:
    """The one-line error of a second run on a locked target."""
    return TargetLocked(f"target {target!r} is locked by {holder.describe()}: wait for that run to finish, or pass "
                        "--force-unlock if it is dead", target=target, holder=holder.describe())


class HeldLock(Protocol):
    """A lock this process holds; :meth:`release` is idempotent."""

    def release(self) -> None: ...


class RunLock(Protocol):
    """The lock of one target."""

    def acquire(self, holder: Holder, *, force: bool = False, warn: Warn | None = None) -> HeldLock:
        """Take the lock for ``holder``, or raise :class:`TargetLocked` naming the current holder. ``force``
        takes it whoever holds it (``warn`` says whom it was taken from)."""
        ...

    def holder(self) -> Holder | None:
        """The current holder, or None when the target is free."""
        ...


@dataclass
class _Nested:
    """The lock of a parent process (a game day): nothing to release here."""

    def release(self) -> None:
        return None


def inherited(current: Holder | None, holder: Holder) -> HeldLock | None:
    """The parent's lock when ``current`` (who holds the target) is the run ``holder`` runs under."""
    if holder.under and current is not None and current.run_id == holder.under:
        return _Nested()
    return None


@dataclass
class _HeldFile:
    fd: int | None
    path: Path

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_ino == self.path.stat().st_ino:
                os.ftruncate(fd, 0)  # free: nobody is named as the holder any more
        os.close(fd)  # closing drops the flock


class FileLock:
    """``fcntl.flock`` on a file holding the holder's JSON. The kernel drops the flock when the holder dies; a
    flock still held while the named holder's pid is dead on this host (a child kept the file open) is stale
    and taken over."""

    def __init__(self, path: Path, *, target: str) -> None:
        self.path = path
        self.target = target

    def holder(self) -> Holder | None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return Holder.from_json(self.path.read_text())
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # nobody holds the flock: the file names a finished or dead run
        finally:
            os.close(fd)

    def acquire(self, holder: Holder, *, force: bool = False, warn: Warn | None = None) -> HeldLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the lock folder {self.path.parent} ({exc.strerror}): make it writable "
                             "or point AFTERSHOCK_HOME elsewhere", target=self.target, path=str(self.path)) from exc
        for _ in range(10):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                current = Holder.from_json(self.path.read_text())
                os.close(fd)
                nested = inherited(current, holder)
                if nested is not None:
                    return nested
                if current is not None and not force and not self._stale(current):
                    raise locked_error(self.target, current) from None
                if warn is not None:
                    why = "forced (--force-unlock)" if force else "its holder is dead"
                    warn(f"taking over the lock of target {self.target!r} from "
                         f"{current.describe() if current else 'an unknown holder'}: {why}")
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # the old holder keeps a lock on a file nobody opens any more
                continue
            if os.fstat(fd).st_ino != self._inode():
                os.close(fd)  # someone took over between our open and our flock: try the new file
                continue
            os.ftruncate(fd, 0)
            os.write(fd, holder.to_json().encode())
            os.fsync(fd)
            return _HeldFile(fd, self.path)
        raise TargetLocked(f"could not take the lock {self.path} after 10 tries: another run keeps taking it; "
                           "try again", target=self.target, path=str(self.path))

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot open the lock file {self.path} ({exc.strerror}): make it writable or point "
                             "AFTERSHOCK_HOME elsewhere", target=self.target, path=str(self.path)) from exc

    def _inode(self) -> int | None:
        try:
            return self.path.stat().st_ino
        except FileNotFoundError:
            return None

    @staticmethod
    def _stale(holder: Holder) -> bool:
        return holder.host == socket.gethostname() and not pid_alive(holder.pid)
