"""The control plane's watch loop: detect a dead writer or replica, fail over, rebuild lost replicas.

A writer whose process exited is down at once; a live one that refuses connections is down after
``failure_threshold`` checks in a row (a frozen server costs the connect timeout per check).
"""

from __future__ import annotations

import threading
import time

import psycopg

from aftershock.lab.db.control import FleetControl
from aftershock.lab.db.models import NodeRole
from aftershock.lab.db.procedures import in_region_failover


class FleetMonitor:
    """Runs :meth:`tick` every ``interval_s`` on a daemon thread until :meth:`stop`."""

    def __init__(self, control: FleetControl, *, interval_s: float, failure_threshold: int,
                 failover_delay_s: float, rebuild_delay_s: float) -> None:
        self.control = control
        self.interval_s = interval_s
        self.failure_threshold = failure_threshold
        self.failover_delay_s = failover_delay_s
        self.rebuild_delay_s = rebuild_delay_s
        self._failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="db-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # recorded as an event; a dead watch would be worse than a failed round
                first_line = str(exc).splitlines()[0] if str(exc) else ""
                self.control.emit("db.monitor_error", error=f"{type(exc).__name__}: {first_line}")

    def tick(self) -> None:
        """One round: replicas first (so the endpoints drop dead ones), then the writer, then rebuilds."""
        control = self.control
        with control.lock:
            if self._stop.is_set():
                return
            self._check_readers()
            self._check_writer()
            self._rebuild_due()

    def _check_readers(self) -> None:
        control = self.control
        for node in control.nodes.values():
            if control.roles[node.name] is NodeRole.READER and not node.alive:
                control.set_role(node.name, NodeRole.DOWN)
                control.emit("db.reader_down", instance=node.name, region=node.spec.region, az=node.spec.az)
                control.publish()

    def _check_writer(self) -> None:
        control = self.control
        name = control.writer
        if name is None:
            return
        node = control.nodes[name]
        role = control.roles[name]
        if role is NodeRole.DOWN:  # no replica took over: restart in place once its AZ is back
            if node.spec.az not in control.down_azs and node.spec.region not in control.lost_regions:
                node.start()
                control.set_writer(name)
                control.publish()
                control.emit("db.writer_restarted", instance=name, reason=f"{node.spec.az} is up again")
            return
        if role is not NodeRole.WRITER:
            return
        if not node.alive:
            reason = "process exited"
        else:
            try:
                with node.connect(timeout=1.0) as conn:
                    conn.execute("SELECT 1")
                self._failures = 0
                return
            except psycopg.Error:
                self._failures += 1
                if self._failures < self.failure_threshold:
                    return
                reason = f"refused {self._failures} checks"
        self._failures = 0
        in_region_failover(control, reason=reason, delay_s=self.failover_delay_s)

    def _rebuild_due(self) -> None:
        control = self.control
        if control.writer is None or control.roles[control.writer] is not NodeRole.WRITER:
            return
        now = time.monotonic()
        for node in control.nodes.values():
            since = control.down_since.get(node.name)
            if (control.roles[node.name] is NodeRole.DOWN and since is not None and node.name != control.writer
                    and now - since >= self.rebuild_delay_s and node.spec.az not in control.down_azs
                    and node.spec.region not in control.lost_regions):
                control.reclone(node, reason="instance replaced", event="db.reader_rebuilt")
