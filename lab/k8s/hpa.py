"""A Horizontal Pod Autoscaler per region, on requests per second per pod.

Follows the Kubernetes algorithm: every sync period (Kubernetes: 15 s) ``desired = ceil(total / target)``
when the ratio leaves the 10 % tolerance; scale-up limited to ``max(100 %, 4 pods)`` per period; scale-down
only to the highest recommendation of the stabilization window (Kubernetes: 300 s); clamped to min/max.
Each decision is logged as an ``hpa.decision`` event.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

import httpx

from aftershock.lab.events import Emit
from aftershock.lab.k8s.controller import DeploymentController

TOLERANCE = 0.1


@dataclass(frozen=True)
class HpaSettings:
    region: str
    min_replicas: int
    max_replicas: int
    target_rps_per_pod: float
    sync_period_s: float = 15.0
    scale_down_stabilization_s: float = 300.0


@dataclass(frozen=True)
class HpaDecision:
    ts: float
    region: str
    current: int
    desired: int
    metric_rps_per_pod: float
    reason: str


def recommend(current: int, total_rps: float, pods_measured: int, s: HpaSettings) -> tuple[int, str]:
    """The replica count the metric asks for, before stabilization (pure; unit tested)."""
    if pods_measured == 0:
        return current, "no metrics"
    per_pod = total_rps / pods_measured
    ratio = per_pod / s.target_rps_per_pod
    if abs(ratio - 1.0) <= TOLERANCE:
        return current, "within tolerance"
    wanted = math.ceil(total_rps / s.target_rps_per_pod)
    if wanted > current:
        limit = max(2 * current, current + 4)
        if wanted > limit:
            return limit, f"scale-up limited to {limit} (wanted {wanted})"
        return wanted, "above target"
    return wanted, "below target"


class Autoscaler:
    """Runs one HPA loop per configured region on its own thread."""

    def __init__(self, controller: DeploymentController, settings: list[HpaSettings], emit: Emit) -> None:
        self._controller = controller
        self._settings = {s.region: s for s in settings}
        self._emit = emit
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_counts: dict[str, tuple[float, int]] = {}
        self._history: dict[str, deque[tuple[float, int]]] = {s.region: deque() for s in settings}
        self._lock = threading.Lock()
        self.last_decisions: dict[str, HpaDecision] = {}
        self._http = httpx.Client(timeout=0.5)

    def start(self) -> None:
        for region in self._settings:
            thread = threading.Thread(target=self._run, args=(region,), name=f"hpa-{region}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._http.close()

    def _run(self, region: str) -> None:
        period = self._settings[region].sync_period_s
        while not self._stopping.wait(period):
            try:
                self.sync_once(region)
            except Exception as exc:  # recorded, the loop goes on like the real controller-manager
                self._emit("hpa.error", region=region, error=f"{type(exc).__name__}: {exc}")

    def _total_rps(self, region: str) -> tuple[float, int]:
        """Sum of each ready pod's request rate since the previous sync (pods new since then are skipped)."""
        total, measured = 0.0, 0
        now = time.time()
        for target in self._controller.ready_targets(region):
            try:
                body = self._http.get(f"http://127.0.0.1:{target.port}/metrics").json()
                count = int(body["requests_total"])
            except (httpx.HTTPError, ValueError, KeyError):
                continue
            with self._lock:
                previous = self._last_counts.get(target.name)
                self._last_counts[target.name] = (now, count)
            if previous and now > previous[0]:
                total += max(0, count - previous[1]) / (now - previous[0])
                measured += 1
        return total, measured

    def sync_once(self, region: str) -> HpaDecision:
        s = self._settings[region]
        current = self._controller.desired(region)
        total, measured = self._total_rps(region)
        wanted, reason = recommend(current, total, measured, s)
        now = time.time()
        history = self._history[region]
        history.append((now, wanted))
        while history and history[0][0] < now - s.scale_down_stabilization_s:
            history.popleft()
        desired = wanted
        if wanted < current:
            desired = min(current, max(r for _, r in history))
            if desired != wanted:
                reason = f"scale-down stabilized at {desired} (wanted {wanted})"
        desired = max(s.min_replicas, min(s.max_replicas, desired))
        per_pod = total / measured if measured else 0.0
        decision = HpaDecision(now, region, current, desired, round(per_pod, 2), reason)
        self.last_decisions[region] = decision
        if desired != current:
            self._emit("hpa.decision", region=region, current=current, desired=desired,
                       metric_rps_per_pod=decision.metric_rps_per_pod, target=s.target_rps_per_pod, reason=reason)
            self._controller.scale(region, desired, reason="hpa")
        return decision
