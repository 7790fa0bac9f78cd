"""Helpers for tests of the lab's DNS front door: a route53-failover lab, and clients that resolve like real ones."""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aftershock.cli.lab import start_lab
from aftershock.core.resolver import CachePolicy, StubResolver
from aftershock.lab.client import LabClient
from aftershock.lab.state import read_state
from tests.labkit import RunningLab


@contextmanager
def dns_lab(home: Path) -> Iterator[RunningLab]:
    """A real lab with ``--front-door route53-failover`` in ``home`` (AFTERSHOCK_HOME while it runs)."""
    previous = os.environ.get("AFTERSHOCK_HOME")
    os.environ["AFTERSHOCK_HOME"] = str(home)
    lab_dir = home / "lab"
    proc = start_lab(lab_dir, detach=True, front_door="route53-failover")
    state = read_state(lab_dir)
    assert state is not None
    running = RunningLab(lab_dir, proc.pid, state.front_door_url, LabClient(state.control_url), proc)
    try:
        yield running
    finally:
        running.stop()
        if previous is None:
            os.environ.pop("AFTERSHOCK_HOME", None)
        else:
            os.environ["AFTERSHOCK_HOME"] = previous


def get_health(address: str, port: int, host: str) -> tuple[int, str | None]:
    """GET /health over a new connection to ``address`` (what DNS answered): status (0: no answer), X-Region."""
    conn = http.client.HTTPConnection(address, port, timeout=1.0)
    try:
        conn.request("GET", "/health", headers={"Host": host, "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.getheader("x-region")
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        conn.close()


@dataclass
class Client:
    """A client that resolves ``name`` through ``resolver`` with a cache policy before every request (a new
    connection each time), every ``interval_s``; records (start, address, status, region)."""

    resolver: str
    name: str
    port: int
    cache: CachePolicy = "ttl"
    interval_s: float = 0.05
    results: list[tuple[float, str | None, int, str | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Client:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self, max_seconds: float = 90.0) -> None:
        resolver = StubResolver(self.resolver, cache=self.cache)
        deadline = time.monotonic() + max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            start = time.time()
            try:
                address: str | None = resolver.resolve(self.name).addresses[0]
            except OSError:
                address = None
            status, region = get_health(address, self.port, f"{self.name}:{self.port}") if address else (0, None)
            self.results.append((start, address, status, region))
            time.sleep(self.interval_s)

    def first(self, *, after: float, region: str) -> float | None:
        """Start of the first request after ``after`` served (200) by ``region``."""
        return next((t for t, _, s, r in list(self.results) if t >= after and s == 200 and r == region), None)
