"""Route 53 health checks in the lab: one HTTP checker per check, with AWS's interval and failure threshold.

Route 53 checks an endpoint every ``interval`` (30 s standard, 10 s fast) from many checkers and calls it unhealthy
after ``failure_threshold`` (default 3) failed checks in a row, healthy again after as many passes. An HTTP check
passes on a 2xx/3xx answer within the timeout. ``Inverted`` reports the opposite status (a chaos experiment's way
to fail a healthy endpoint's check). The lab runs one checker per check (Route 53 aggregates ~15), counts from
the first passing check (so a lab still starting does not fail over) and scales the clock down::

    check                         interval  failure threshold  timeout  DNS TTL
    Route 53 standard (AWS)       30 s      3                  4 s      60 s (alias to an ALB: 60 s)
    Route 53 fast (AWS)           10 s      3                  4 s      60 s
    Route 53 (lab)                0.5 s     3                  0.4 s    2 s
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from aftershock.core.errors import UsageError
from aftershock.lab.envoy.config import ROUTE53_CHECKER_AGENT  # kept out of the ALBs' access logs
from aftershock.lab.events import Emit


@dataclass(frozen=True, kw_only=True)
class DnsHealthSettings:
    """One health check's clock: ``DnsHealthSettings(interval_s=0.5, failure_threshold=3, timeout_s=0.4)``."""

    interval_s: float
    failure_threshold: int
    timeout_s: float
    path: str = "/health"

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.timeout_s <= 0 or not 1 <= self.failure_threshold <= 10:
            raise UsageError(f"DNS health check {self!r}: use positive seconds and a failure threshold of 1-10")
        if not self.path.startswith("/"):
            raise UsageError(f"DNS health check path {self.path!r} must start with '/'")

    @property
    def detection_s(self) -> float:
        """Threshold x interval: how long a failing endpoint is still answered as healthy."""
        return self.interval_s * self.failure_threshold


R53_AWS_STANDARD = DnsHealthSettings(interval_s=30.0, failure_threshold=3, timeout_s=4.0)
R53_AWS_FAST = DnsHealthSettings(interval_s=10.0, failure_threshold=3, timeout_s=4.0)
R53_LAB = DnsHealthSettings(interval_s=0.5, failure_threshold=3, timeout_s=0.4)
AWS_TTL_S = 60.0
LAB_TTL_S = 2.0


def http_check(host: str, port: int, path: str, timeout_s: float) -> bool:
    """One Route 53 HTTP check over a new connection: True on a 2xx/3xx answer within the timeout."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout_s)
    try:
        conn.request("GET", path, headers={"User-Agent": ROUTE53_CHECKER_AGENT, "Connection": "close"})
        return 200 <= conn.getresponse().status < 400
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class HealthCheck:
    """One health check of an endpoint (``host:port`` + path): status, inversion, and the thread checking it."""

    def __init__(self, check_id: str, region: str, host: str, port: int, settings: DnsHealthSettings, emit: Emit,
                 on_change: Callable[[], None], *, probe: Callable[[], bool] | None = None) -> None:
        self.id = check_id
        self.region = region
        self.host, self.port = host, port
        self.settings = settings
        self._emit = emit
        self._on_change = on_change
        self._probe = probe or (lambda: http_check(host, port, settings.path, settings.timeout_s))
        self._lock = threading.Lock()
        self._healthy = True  # Route 53 starts a new check as healthy
        self._inverted = False
        self._streak = 0  # consecutive observations contradicting the status
        self._armed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"r53-check-{check_id}", daemon=True)

    @property
    def healthy(self) -> bool:
        with self._lock:
            return self._healthy

    @property
    def inverted(self) -> bool:
        with self._lock:
            return self._inverted

    def set_inverted(self, inverted: bool) -> bool:
        """Invert the check (or not); returns the value before. The status follows after the threshold."""
        with self._lock:
            before, self._inverted = self._inverted, inverted
            self._streak = 0
        if before != inverted:
            self._emit("dns.health_check_updated", check=self.id, region=self.region, inverted=inverted)
        return before

    def observe(self, passed: bool) -> None:
        """One check result; the status turns after ``failure_threshold`` contradicting results in a row."""
        changed = False
        with self._lock:
            if not self._armed:  # a check of an endpoint still starting counts from its first pass
                self._armed = passed
                return
            seen = passed != self._inverted
            self._streak = 0 if seen == self._healthy else self._streak + 1
            if self._streak >= self.settings.failure_threshold:
                self._healthy, self._streak, changed = seen, 0, True
            healthy, inverted = self._healthy, self._inverted
        if changed:
            self._emit("dns.health_check_recovered" if healthy else "dns.health_check_failed", check=self.id,
                       region=self.region, inverted=inverted, endpoint=f"{self.host}:{self.port}",
                       threshold=self.settings.failure_threshold, interval_s=self.settings.interval_s)
            self._on_change()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.observe(self._probe())
            next_at += self.settings.interval_s
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.settings.timeout_s + 1.0)

    def view(self) -> dict[str, object]:
        with self._lock:
            return {"id": self.id, "region": self.region, "endpoint": f"{self.host}:{self.port}",
                    "path": self.settings.path, "interval_s": self.settings.interval_s,
                    "failure_threshold": self.settings.failure_threshold, "inverted": self._inverted,
                    "status": "healthy" if self._healthy else "unhealthy"}


__all__ = ["AWS_TTL_S", "LAB_TTL_S", "R53_AWS_FAST", "R53_AWS_STANDARD", "R53_LAB", "DnsHealthSettings",
           "HealthCheck", "http_check"]
