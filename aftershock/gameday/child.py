"""A step's ``aftershock run`` child process, and the operator's abort (key, Ctrl-C, SIGTERM) while it runs.

The child runs in its own session, so a terminal Ctrl-C reaches only the game day, which forwards exactly one
SIGINT (the child then rolls the fault back: experiment rollbacks and its safety net). Further Ctrl-Cs only say
that the rollback is under way: the child is always waited for, SIGTERM after :data:`ROLLBACK_GRACE_S` and
SIGKILL only as the last resort. The child also gets SIGTERM (and rolls back) if the game day itself dies.

Example::

    with AbortSwitch(sys.stdin) as switch, StepProcess.start(argv, log) as child:
        while child.poll() is None:
            if (reason := switch.poll(0.25)) is not None:
                child.abort()
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import signal
import subprocess
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

ROLLBACK_GRACE_S = 300.0
TERM_GRACE_S = 60.0
ABORT_KEYS = frozenset("aA")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class StepProcess:
    """One running ``python -m aftershock run ...``; its output goes to ``log``."""

    proc: subprocess.Popen[bytes]
    aborted_at: float | None = None
    terminated_at: float | None = None
    killed: bool = False

    @classmethod
    def start(cls, argv: list[str], log: Path, env: dict[str, str] | None = None) -> StepProcess:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True, preexec_fn=_die_with_parent)
        return cls(proc)

    def __enter__(self) -> StepProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """Never leave the child behind: abort it and wait (bounded) if it is still running."""
        if self.proc.poll() is None:
            self.abort()
            self.finish()

    def poll(self) -> int | None:
        return self.proc.poll()

    def abort(self) -> bool:
        """SIGINT the child once (it rolls back at once); False when it was already aborted or has ended."""
        if self.aborted_at is not None or self.proc.poll() is not None:
            return False
        self.aborted_at = time.time()
        self.proc.send_signal(signal.SIGINT)
        return True

    def escalate(self, now: float | None = None) -> str | None:
        """After an abort: SIGTERM once the rollback took too long, SIGKILL as the last resort. Returns what
        was done (or None)."""
        if self.aborted_at is None or self.proc.poll() is not None:
            return None
        now = time.time() if now is None else now
        if self.terminated_at is None and now - self.aborted_at > ROLLBACK_GRACE_S:
            self.terminated_at = now
            self.proc.terminate()
            return f"the rollback took more than {ROLLBACK_GRACE_S:.0f} s: sent SIGTERM"
        if self.terminated_at is not None and not self.killed and now - self.terminated_at > TERM_GRACE_S:
            self.killed = True
            self.proc.kill()
            return "the run did not stop after SIGTERM: killed it"
        return None

    def finish(self) -> int:
        """Wait for the child to end (escalating after an abort); its exit code."""
        while True:
            try:
                return self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                self.escalate()


@dataclass
class AbortSwitch:
    """While inside: Ctrl-C and SIGTERM are recorded instead of raising, and (on a terminal) single key presses
    are read without Enter (cbreak mode). :meth:`poll` returns ``"abort key"``, ``"Ctrl-C"`` or ``"SIGTERM"``."""

    stdin: IO[Any] = field(default_factory=lambda: sys.stdin)
    external: Callable[[], str | None] | None = None
    """Another source of abort requests (the web console's abort button): polled with the keys and signals."""
    pending: list[str] = field(default_factory=list)
    _saved_tty: list[Any] | None = None
    _saved_handlers: dict[int, Any] = field(default_factory=dict)

    @property
    def interactive(self) -> bool:
        try:
            return self.stdin.isatty()
        except (AttributeError, ValueError):
            return False

    def __enter__(self) -> AbortSwitch:
        if threading.current_thread() is threading.main_thread():  # a console's game day runs in a thread
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved_handlers[sig] = signal.signal(sig, self._on_signal)
        if self.interactive:
            fd = self.stdin.fileno()
            self._saved_tty = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_tty is not None:
            fd = self.stdin.fileno()
            termios.tcsetattr(fd, termios.TCSADRAIN, self._saved_tty)
            termios.tcflush(fd, termios.TCIFLUSH)  # keys pressed during the step must not answer the next prompt
            self._saved_tty = None
        for sig, handler in self._saved_handlers.items():
            signal.signal(sig, handler)
        self._saved_handlers.clear()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.pending.append("Ctrl-C" if signum == signal.SIGINT else "SIGTERM")

    def poll(self, timeout_s: float) -> str | None:
        """Wait up to ``timeout_s`` for an abort request; the oldest pending one, or None."""
        if self.external is not None and (request := self.external()) is not None:
            self.pending.append(request)
        if not self.pending:
            if self.interactive:
                fd = self.stdin.fileno()
                with contextlib.suppress(InterruptedError):
                    ready, _, _ = select.select([fd], [], [], timeout_s)
                    if ready and not self.pending:
                        key = os.read(fd, 1).decode(errors="replace")
                        if key in ABORT_KEYS:
                            self.pending.append("abort key")
            else:
                deadline = time.monotonic() + timeout_s
                while not self.pending and time.monotonic() < deadline:
                    time.sleep(0.05)
                    if self.external is not None and (request := self.external()) is not None:
                        self.pending.append(request)
        return self.pending.pop(0) if self.pending else None
