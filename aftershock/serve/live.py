"""One live run folder, followed incrementally: what the console's run view shows, as a frozen :class:`LiveState`.

Every file is followed by offset (the timeline through the shared
:class:`~aftershock.core.timeline.follow.RunTimelineFollower`, the JSON-lines files through
:class:`~aftershock.serve.tail.JsonlTail`); :meth:`LiveRun.state` refreshes at most every ``min_age_s`` however
many pages and streams ask, so one follower per run serves every browser watching it.

Example::

    live = LiveRun(Path("runs/20261121T125255Z-az-outage"))
    state = live.state()          # phase, traffic, RTO so far, markers, replicas, ledger counts
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aftershock.core.kinds import MarkerKind, MeasurementKind
from aftershock.core.samples import Sample
from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.gameday.snapshot import FAULT_KINDS, derive_phase
from aftershock.serve.outages import OutageTracker, Span, measured_spans, shaded
from aftershock.serve.tail import JsonlTail
from aftershock.serve.traffic import TrafficTally, TrafficView


@dataclass(frozen=True)
class RtoNow:
    """RTO as known now: ``none`` (no fault yet), ``so far`` (counting) or ``measured`` (the probe's record)."""

    kind: str
    seconds: float | None = None
    error_s: float | None = None
    failing: bool = False
    recovered: bool | None = None
    phases: dict[str, float | None] = field(default_factory=dict)
    recorded_at: float | None = None
    recovered_at: float | None = None
    outages: tuple[Span, ...] | None = None
    """The measurement's outages (None: not measured yet)."""


@dataclass(frozen=True)
class LiveState:
    name: str
    meta: dict[str, Any]
    now: float
    started_at: float
    phase: str
    markers: tuple[dict[str, Any], ...]
    fault_at: float | None
    rto: RtoNow
    traffic: TrafficView
    outages: tuple[Span, ...]
    """The outages to shade: the core's, at the timeline's resolution (the measurement's once measured)."""
    sample: Sample | None
    sample_error: str | None
    ledgers: tuple[tuple[str, dict[str, int]], ...]
    summary: dict[str, Any] | None
    interrupted: bool

    @property
    def done(self) -> bool:
        return self.summary is not None

    @property
    def aborted(self) -> bool:
        return self.interrupted or (self.summary or {}).get("status") == "interrupted"


class _Ledger:
    def __init__(self, path: Path) -> None:
        self.tail = JsonlTail(path)
        self.store = path.stem
        self.counts: dict[str, int] = {}

    def update(self) -> None:
        records, reset = self.tail.read()
        if reset:
            self.counts = {}
        for record in records:
            if record.get("kind") == "meta" and record.get("endpoint"):
                self.store = f"{self.tail.path.stem} ({record['endpoint']})"
            elif record.get("kind") == "write":
                outcome = str(record.get("outcome"))
                self.counts[outcome] = self.counts.get(outcome, 0) + 1


class LiveRun:
    """The incremental readers of one run folder; thread-safe."""

    def __init__(self, path: Path, *, min_age_s: float = 0.2) -> None:
        self.path = Path(path)
        self.min_age_s = min_age_s
        self._lock = threading.Lock()
        self.follower = RunTimelineFollower(self.path)
        self._traffic = TrafficTally(self.follower)
        self._outages = OutageTracker(self.follower)
        self._markers = JsonlTail(self.path / "markers.jsonl")
        self._measurements = JsonlTail(self.path / "measurements.jsonl")
        self._samples = JsonlTail(self.path / "samples.jsonl")
        self._ledgers: dict[Path, _Ledger] = {}
        self._marker_list: list[dict[str, Any]] = []
        self._rto_records: list[dict[str, Any]] = []
        self._sample: Sample | None = None
        self._sample_error: str | None = None
        self._meta: dict[str, Any] = {}
        self._meta_mtime = 0.0
        self._summary: dict[str, Any] | None = None
        self._state: LiveState | None = None
        self._at = 0.0

    def __repr__(self) -> str:
        return f"LiveRun({str(self.path)!r})"

    def state(self) -> LiveState:
        """The run now (refreshed when the last state is older than ``min_age_s``)."""
        with self._lock:
            now = time.time()
            if self._state is None or now - self._at >= self.min_age_s:
                self._state = self._refresh(now)
                self._at = now
            return self._state

    def _read_json(self, name: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _read_files(self) -> None:
        try:
            mtime = (self.path / "run.json").stat().st_mtime
        except OSError:
            mtime = 0.0
        if mtime != self._meta_mtime:
            self._meta, self._meta_mtime = self._read_json("run.json") or {}, mtime
        if self._summary is None:
            self._summary = self._read_json("summary.json")
        for tail, kept in ((self._markers, self._marker_list), (self._measurements, self._rto_records)):
            records, reset = tail.read()
            if reset:
                kept.clear()
            kept.extend(r for r in records if tail is self._markers or r.get("kind") == MeasurementKind.RTO)
        for record in self._samples.read()[0]:
            try:
                sample = Sample.from_record(record)
            except (TypeError, ValueError, AttributeError, OverflowError):
                continue
            if sample is not None and sample.error is not None:
                self._sample_error = sample.error
            elif sample is not None:
                self._sample, self._sample_error = sample, None
        for path in self.path.glob("ledger*.jsonl"):
            self._ledgers.setdefault(path, _Ledger(path)).update()

    def _refresh(self, now: float) -> LiveState:
        self._read_files()
        markers = self._marker_list
        done = self._summary is not None
        if done and self._meta.get("ended_at"):
            now = float(self._meta["ended_at"])
        started = float(self._meta.get("started_at") or (markers[0]["ts"] if markers else now))
        fault_at = last_fault_start(markers)
        traffic = self._traffic.update(done=done)
        kinds = [str(m.get("kind")) for m in markers]
        phase = derive_phase(kinds, failing=traffic.failing, done=done, warm=traffic.end_ms is not None,
                             interrupted=(self._summary or {}).get("status") == "interrupted")
        rto = self._rto(fault_at, traffic, now)
        outages = shaded(self._outages.update(fault_at=fault_at, done=done), rto.outages, rto.recovered_at)
        return LiveState(
            name=self.path.name, meta=self._meta, now=now, started_at=started, phase=phase,
            markers=tuple(m for m in markers if m.get("kind") in FAULT_KINDS), fault_at=fault_at,
            rto=rto, traffic=traffic, outages=outages, sample=self._sample,
            sample_error=self._sample_error,
            ledgers=tuple((ledger.store, dict(ledger.counts)) for ledger in self._ledgers.values()),
            summary=self._summary, interrupted=MarkerKind.RUN_INTERRUPTED in kinds)

    def _rto(self, fault_at: float | None, traffic: TrafficView, now: float) -> RtoNow:
        if fault_at is None:
            return RtoNow("none")
        measured = [m for m in self._rto_records if float(m.get("fault_start") or 0) >= fault_at]
        if measured:
            last = measured[-1]
            value, error = last.get("rto_s"), last.get("rto_error_s")
            raw = last.get("phases")
            phases: dict[str, Any] = raw if isinstance(raw, dict) else {}
            recovered_at = last.get("recovered_at")
            return RtoNow("measured", None if value is None else float(value),
                          None if error is None else float(error), recovered=bool(last.get("recovered")),
                          phases={k: v for k, v in phases.items() if k.endswith("_s")},
                          recorded_at=float(last.get("ts") or 0) or None,
                          recovered_at=None if recovered_at is None else float(recovered_at),
                          outages=measured_spans(last))
        if traffic.failing:
            return RtoNow("so far", max(0.0, now - fault_at), failing=True)
        if traffic.last_bad_ms is not None and traffic.last_bad_ms >= fault_at * 1000:
            return RtoNow("so far", traffic.last_bad_ms / 1000 - fault_at)
        return RtoNow("so far", 0.0)


def last_fault_start(markers: list[dict[str, Any]]) -> float | None:
    """The last fault start that was not aborted (the RTO's origin), as the dashboard finds it."""
    aborted = {m.get("started_at") for m in markers if m.get("kind") == MarkerKind.FAULT_ABORTED}
    starts = [float(m["ts"]) for m in markers if m.get("kind") == MarkerKind.FAULT_START and m.get("ts") not in aborted]
    return max(starts) if starts else None


__all__ = ["LiveRun", "LiveState", "RtoNow", "last_fault_start"]
