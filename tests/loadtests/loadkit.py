"""Helpers for the load tests: a stand-in shop server that can be killed and restarted, Locust argv, cleanup.

Nothing here imports Locust (it would monkey-patch the test process): Locust always runs as a subprocess.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.labkit import processes_mentioning

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PYTHON = sys.executable
STANDIN = HERE / "shop_standin.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05):
            return True
    except OSError:
        return False


def wait_for(predicate: object, timeout: float, what: str, interval: float = 0.005) -> float:
    """Poll ``predicate()`` until true; returns the epoch time it first held. Fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return time.time()
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@dataclass
class StandinShop:
    """The stand-in shop on a fixed port; :meth:`kill` and :meth:`start` return true epoch times."""

    port: int
    log: Path
    mode: str = "ok"
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def current(self) -> subprocess.Popen[bytes]:
        return self.procs[-1]

    def start(self) -> float:
        """Start the server; returns the epoch time it first accepted a connection."""
        with open(self.log, "ab") as log:
            self.procs.append(
                subprocess.Popen(
                    [PYTHON, str(STANDIN), str(self.port), "--mode", self.mode],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
        return wait_for(lambda: port_open(self.port), 30, f"the stand-in shop on port {self.port}")

    def kill(self) -> float:
        """SIGKILL the server; returns the epoch time of the kill."""
        at = time.time()
        self.current.send_signal(signal.SIGKILL)
        self.current.wait(timeout=10)
        return at

    def served(self) -> int:
        import httpx

        return int(httpx.get(f"{self.url}/__count", timeout=5).json()["served"])

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def locust_cmd(url: str, out: Path, *, users: int = 6, seconds: int = 4, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        PYTHON, "-m", "locust", "-f", str(REPO / "loadtests" / "locustfile.py"), "--headless",
        "-H", url, "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
        "--exit-code-on-error", "0", "--only-summary", "--stop-timeout", "1",
        "--timeline-dir", str(out), "--json-file", str(out / "stats"), *extra,
    ]  # fmt: skip


class Procs:
    """Subprocesses of one test: all killed and reaped at the end, whatever happened."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], log: Path, **kwargs: object) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                **kwargs,  # type: ignore[call-overload]
            )
        self.procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL) if _own_group(proc) else proc.kill()
                proc.wait(timeout=10)


def _own_group(proc: subprocess.Popen[bytes]) -> bool:
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        return False


def locust_processes_for(marker: str) -> list[int]:
    """PIDs of live processes whose command line mentions ``marker`` (e.g. a run folder)."""
    return processes_mentioning(marker)
