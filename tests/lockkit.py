"""Helpers for the run-lock tests: another process holding a target's lock file, a pid that is surely dead."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from aftershock.core.procs import pid_alive
from aftershock.core.runlock import Holder

STARTED = 1714564800.0  # 2024-05-01 12:00:00 UTC


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def hold_in_another_process(path: Path, holder: Holder) -> subprocess.Popen[str]:
    """A process that holds the flock on ``path`` with ``holder`` written in it, until :func:`let_go`."""
    code = textwrap.dedent(f"""
        import fcntl, os, sys
        fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, {holder.to_json()!r}.encode())
        print("held", flush=True)
        sys.stdin.read()
    """)
    path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def let_go(proc: subprocess.Popen[str]) -> None:
    proc.communicate(timeout=10)  # closes its stdin: it exits and its flock goes
