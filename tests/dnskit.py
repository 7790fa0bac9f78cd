"""Helpers for tests of the lab's DNS front door (its lab: the ``route53_lab`` fixture of tests/conftest.py): clients
that resolve like real ones."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field

from aftershock.core.resolver import CachePolicy, StubResolver


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
