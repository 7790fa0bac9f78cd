"""Helpers for the run-layer tests: a fake fault driver, a lab-kind target, synthetic traffic and markers.

Imported as ``from tests.runkit import ...``, like every test helper.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aftershock.core.errors import FaultRefused
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, parse_target
from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import TimelineWriter
from aftershock.faults.driver import Observation, RegionReplicas
from aftershock.faults.outcome import FaultOutcome, RevertCall

BUCKET_MS = 100


def target_data(**overrides: Any) -> dict[str, Any]:
    """A valid lab-kind target: two regions, a database whose writer ``db-east-b`` lives in us-east-1b."""
    data: dict[str, Any] = {
        "name": "t",
        "kind": "lab",
        "regions": [
            {"name": "us-east-1", "role": "primary", "azs": ["us-east-1a", "us-east-1b", "us-east-1c"]},
            {"name": "us-west-2", "role": "secondary", "azs": ["us-west-2a", "us-west-2b"]},
        ],
        "front_door": {
            "url": "http://127.0.0.1:1",
            "endpoint_groups": [
                {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"},
                {"region": "us-west-2", "traffic_dial": 0, "load_balancer": "alb-w"},
            ],
        },
        "database": {
            "clusters": [
                {"name": "east", "region": "us-east-1", "role": "primary", "instances": [
                    {"name": "db-east-a", "az": "us-east-1a", "role": "reader"},
                    {"name": "db-east-b", "az": "us-east-1b", "role": "writer"},
                ]},
                {"name": "west", "region": "us-west-2", "role": "secondary", "instances": [
                    {"name": "db-west-a", "az": "us-west-2a", "role": "reader"},
                ]},
            ],
        },
        "objectives_tier": "lab",
        "lab": {"control_url": "http://127.0.0.1:2", "home": "/tmp/x"},
    }
    data.update(overrides)
    return data


def plan_run(run: RunFolder, target_file: Path, **configuration: Any) -> dict[str, Any]:
    """Write the plan of ``run`` (``run.json``) for target ``target_file`` and the experiment ``configuration``,
    as ``aftershock run`` does; returns the configuration an activity of that run receives."""
    from aftershock.core.plan import write_plan
    from aftershock.planning import resolve_plan

    write_plan(run, resolve_plan(configuration, experiment="test.yaml", target_ref=str(target_file)))
    return {**configuration, "aftershock_run_dir": str(run.path)}


def write_target(path: Path, **overrides: Any) -> Path:
    """The target file at ``path``; its lab home (where the run lock lives) is a folder next to it, never a
    shared one (a /tmp path left by another user's run is not writable)."""
    overrides.setdefault("lab", {"control_url": "http://127.0.0.1:2", "home": str(path.parent / "lab-home")})
    path.write_text(yaml.safe_dump(target_data(**overrides), sort_keys=False))
    return path


@dataclass
class FakeDriver:
    """An in-process driver: records every call, answers with outcomes that carry real reverts.

    ``refuse`` maps a method name to the message of the :class:`FaultRefused` it raises; ``broken`` maps a
    method name to any other exception it raises. ``writer`` is the instance :meth:`observe` reports.
    """

    target: Target
    writer: str | None = "db-east-b"
    refuse: dict[str, str] = field(default_factory=dict)
    broken: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lag_s: dict[str, float | None] = field(default_factory=dict)  # per reader, as observe() reports it
    closed: int = 0  # close() calls: every driver_for(...) must be closed by whoever asked for it
    healthy_after_s: float = 0.0  # how long wait_healthy() takes
    journals_in_flight: bool = False  # like the lab: signals are held while a fault is applied

    def _call(self, method: str, description: str, reverts: Sequence[RevertCall] = (),
              **args: Any) -> FaultOutcome:
        self.calls.append((method, args))
        if method in self.refuse:
            raise FaultRefused(self.refuse[method])
        if method in self.broken:
            raise self.broken[method]
        return FaultOutcome(description, {"method": method, **args}, tuple(reverts))

    def kill_pods(self, region: str, *, az: str | None, count: int | None, percent: float | None) -> FaultOutcome:
        return self._call("kill_pods", f"killed pods in {region}", region=region, az=az, count=count,
                          percent=percent)

    def az_outage(self, az: str) -> FaultOutcome:
        return self._call("az_outage", f"{az} is down", [RevertCall("az_restore", {"az": az})], az=az)

    def az_restore(self, az: str) -> FaultOutcome:
        return self._call("az_restore", f"{az} is back", az=az)

    def restore_baseline(self) -> FaultOutcome:
        return self._call("restore_baseline", "back to the baseline")

    def crash_writer(self) -> FaultOutcome:
        return self._call("crash_writer", "writer crashed")

    def failover_global_database(self, to_region: str) -> FaultOutcome:
        reverts = [RevertCall("restore_database_region", {"region": "us-east-1"}),
                   RevertCall("switchover_global_database", {"to_region": "us-east-1"})]
        return self._call("failover_global_database", f"failed over to {to_region}", reverts, to_region=to_region)

    def switchover_global_database(self, to_region: str) -> FaultOutcome:
        return self._call("switchover_global_database", f"switched over to {to_region}", to_region=to_region)

    def restore_database_region(self, region: str) -> FaultOutcome:
        return self._call("restore_database_region", f"{region} rebuilt", region=region)

    def set_traffic_dial(self, region: str, dial: int) -> FaultOutcome:
        return self._call("set_traffic_dial", f"{region} dial {dial}",
                          [RevertCall("set_traffic_dial", {"region": region, "dial": 100})], region=region, dial=dial)

    def start_zonal_shift(self, az: str, *, resources: list[str] | None = None,
                          expires_in: str = "1h") -> FaultOutcome:
        return self._call("start_zonal_shift", f"zonal shift away from {az}",
                          [RevertCall("cancel_zonal_shift", {"az": az})], az=az, resources=resources,
                          expires_in=expires_in)

    def cancel_zonal_shift(self, az: str) -> FaultOutcome:
        return self._call("cancel_zonal_shift", f"zonal shift away from {az} cancelled", az=az)

    def cut_replication(self, region: str) -> FaultOutcome:
        return self._call("cut_replication", f"replication into {region} cut",
                          [RevertCall("restore_replication", {"region": region})], region=region)

    def restore_replication(self, region: str) -> FaultOutcome:
        return self._call("restore_replication", f"replication into {region} restored", region=region)

    def observe(self) -> Observation:
        self.calls.append(("observe", {}))
        return Observation(ts=time.time(), writer=self.writer, writer_region="us-east-1",
                           replicas=(RegionReplicas("us-east-1", 3, 3),), dials={"us-east-1": 100},
                           azs_down=(), replication_lag_s=dict(self.lag_s))

    def wait_healthy(self, timeout_s: float) -> Observation:
        self.calls.append(("wait_healthy", {"timeout_s": timeout_s}))
        time.sleep(self.healthy_after_s)
        return self.observe()

    def writer_conninfo(self) -> str:
        return "host=127.0.0.1 dbname=shop"

    def close(self) -> None:
        self.closed += 1

    @property
    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]


def fake_target() -> Target:
    return parse_target(target_data(), "t.yaml")


# -- synthetic traffic ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    at_ms: float
    ok: bool
    latency_ms: float = 5.0
    name: str = "GET /api/products"


def requests_between(start_s: float, end_s: float, *, every_ms: float = 10.0,
                     down: Iterable[tuple[float, float]] = (), slow: Iterable[tuple[float, float]] = (),
                     slow_ms: float = 900.0, name: str = "GET /api/products") -> list[Request]:
    """A request every ``every_ms`` in ``[start_s, end_s)`` (epoch s); failing inside ``down`` spans and
    taking ``slow_ms`` inside ``slow`` spans (both ``(from_s, to_s)``, half-open)."""
    down_ms = [(a * 1000, b * 1000) for a, b in down]
    slow_spans = [(a * 1000, b * 1000) for a, b in slow]
    out: list[Request] = []
    for i in itertools.count():
        at = start_s * 1000 + i * every_ms  # no accumulated float drift
        if at >= end_s * 1000:
            return out
        failing = any(a <= at < b for a, b in down_ms)
        latency = slow_ms if any(a <= at < b for a, b in slow_spans) else 5.0
        out.append(Request(round(at, 3), not failing, latency, name))
    raise AssertionError("unreachable")


def write_timeline(run: RunFolder, requests: Iterable[Request], *, file: str = "timeline.jsonl",
                   slow_ms: float | None = None) -> None:
    """The timeline of ``requests``, as the Locust plugin writes it; with ``slow_ms``, successes slower than that
    are counted as slow (as the plugin does with ``--timeline-slow-ms``)."""
    pieces = [
        Bucket.single(start_ms=int(r.at_ms // BUCKET_MS * BUCKET_MS), bucket_ms=BUCKET_MS, name=r.name, ok=r.ok,
                      at_ms=r.at_ms, latency_ms=r.latency_ms, error=None if r.ok else "http 503", slow_ms=slow_ms)
        for r in requests
    ]
    with TimelineWriter(run.file(file), bucket_ms=BUCKET_MS, writer="test", slow_ms=slow_ms) as out:
        out.write(pieces)


def first_ok_after_last_failure(requests: Sequence[Request]) -> float | None:
    """Start (ms) of the first successful request after the last failure: where the outage truly ended
    (None: still failing at the end of the data)."""
    last_fail = max(r.at_ms for r in requests if not r.ok)
    return min((r.at_ms for r in requests if r.ok and r.at_ms > last_fail), default=None)


def last_failure_bucket_end(requests: Sequence[Request]) -> float:
    """End (ms) of the bucket holding the last failure: a bucket keeps only its first and last success, so an
    outage that ends inside a bucket with successes on both sides is known to end by this edge."""
    last_fail = max(r.at_ms for r in requests if not r.ok)
    return float(last_fail // BUCKET_MS * BUCKET_MS + BUCKET_MS)


def mark_at(run: RunFolder, ts: float, kind: str, **fields: Any) -> None:
    """A marker at a chosen time (``RunFolder.mark`` always uses now)."""
    run.append("markers.jsonl", {"ts": ts, "kind": kind, **fields})


def measurements(run: RunFolder, kind: str) -> list[dict[str, Any]]:
    return [m for m in run.records("measurements.jsonl") if m["kind"] == kind]
