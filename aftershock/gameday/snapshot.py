"""One look at a live run folder: what the dashboard shows, read only from the run's files.

Example::

    watcher = RunWatcher(RunFolder(Path("runs/20261121T125255Z-az-outage")))
    snap = watcher.snapshot()           # now
    snap.phase, snap.rto, snap.ok_rps   # "fault", Rto(kind="so far", seconds=2.3, failing=True), 41.5

Phases, from the markers (and the traffic while a fault is on): ``warming up`` (no traffic yet), ``steady
state`` (before the fault), ``fault`` (a fault was injected and requests fail or the injection is in progress),
``recovering`` (the fault is still in effect, no failures now: also during the steady-state check after the
method, until the rollbacks), ``rolling back`` (rollbacks started, or the run was interrupted), ``rolled back``
(rollbacks ended), then ``finished`` or ``aborted`` (the summary is written; aborted: the run was interrupted).
The terminal dashboard and the web console both show :func:`derive_phase`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aftershock.core.kinds import MarkerKind, MeasurementKind
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import Sample, read_samples
from aftershock.core.timeline.follow import RunTimelineFollower
from aftershock.core.timeline.model import EMPTY_HISTOGRAM
from aftershock.core.timeline.store import Timeline
from aftershock.probes.ledger.record import Outcome, read_ledger

WINDOW_S = 5.0
FAILING_WINDOW_S = 1.0
FAULT_KINDS = (MarkerKind.FAULT_START, MarkerKind.FAULT_END, MarkerKind.FAULT_ABORTED, MarkerKind.FAULT_REVERTED,
               MarkerKind.RUN_INTERRUPTED, MarkerKind.ROLLBACKS_START, MarkerKind.ROLLBACKS_END,
               MarkerKind.TARGET_HEALTHY)


@dataclass(frozen=True)
class Rto:
    """RTO as known now: ``none`` (no fault yet), ``so far`` (counting or not yet confirmed), ``measured``."""

    kind: Literal["none", "so far", "measured"]
    seconds: float | None = None
    failing: bool = False
    recovered: bool | None = None


@dataclass(frozen=True)
class Marker:
    at_s: float
    kind: str
    text: str


@dataclass(frozen=True)
class Snapshot:
    name: str
    scenario: str
    elapsed_s: float
    phase: str
    interrupted: bool
    ok_rps: float
    fail_rps: float
    p95_ms: float | None
    rto: Rto
    markers: tuple[Marker, ...] = ()
    replicas: dict[str, tuple[int, int]] = field(default_factory=dict)
    writer: str | None = None
    writer_region: str | None = None
    lag_s: dict[str, float | None] = field(default_factory=dict)
    azs_down: tuple[str, ...] = ()
    sample_error: str | None = None
    acknowledged: int = 0
    failed_writes: int = 0
    in_doubt: int = 0
    verdict: str | None = None


@dataclass(frozen=True)
class _Traffic:
    ok_rps: float
    fail_rps: float
    p95_ms: float | None
    failing: bool
    last_fail_s: float | None


def _traffic(timeline: Timeline, end_ms: float, since_s: float | None) -> _Traffic:
    start_ms = end_ms - WINDOW_S * 1000
    ok = fail = 0
    hist = EMPTY_HISTOGRAM
    max_ms = 0.0
    recent_fail = 0
    last_fail: float | None = None
    first_ms: float | None = None
    for bucket in timeline.buckets:
        if since_s is not None and bucket.last_fail_ms is not None and bucket.last_fail_ms >= since_s * 1000:
            last_fail = max(last_fail or 0.0, bucket.last_fail_ms / 1000)
        if not start_ms <= bucket.start_ms < end_ms:
            continue
        first_ms = bucket.start_ms if first_ms is None else min(first_ms, bucket.start_ms)
        ok += bucket.ok
        fail += bucket.fail
        hist = hist.merge(bucket.hist)
        max_ms = max(max_ms, bucket.max_ms)
        if bucket.start_ms >= end_ms - FAILING_WINDOW_S * 1000:
            recent_fail += bucket.fail
    span_s = (end_ms - first_ms) / 1000 if first_ms is not None else WINDOW_S
    span_s = max(span_s, timeline.bucket_ms / 1000)
    return _Traffic(ok / span_s, fail / span_s, hist.percentile(0.95, max_ms=max_ms), recent_fail > 0, last_fail)


ENDED_PHASES = ("finished", "aborted")
"""The phases of a run whose summary is written."""


def derive_phase(kinds: list[str], *, failing: bool, done: bool, warm: bool, interrupted: bool = False) -> str:
    """The phase of a run from its marker kinds (in order) and whether requests are failing now; ``interrupted``:
    its summary says so (a run killed and finished by someone else has no ``run.interrupted`` marker)."""
    interrupted = interrupted or MarkerKind.RUN_INTERRUPTED in kinds
    if done:
        return "aborted" if interrupted else "finished"
    if MarkerKind.ROLLBACKS_END in kinds:
        return "rolled back"
    if MarkerKind.ROLLBACKS_START in kinds or interrupted:
        return "rolling back"
    if MarkerKind.FAULT_START in kinds:
        after = kinds[len(kinds) - 1 - kinds[::-1].index(MarkerKind.FAULT_START):]
        if MarkerKind.FAULT_END in after:  # in effect until the rollbacks (the check after the method runs under it)
            return "fault" if failing else "recovering"
        if MarkerKind.FAULT_ABORTED not in after:  # being injected (an aborted one injected nothing)
            return "fault"
    return "steady state" if warm or MarkerKind.LOAD_WARM in kinds else "warming up"


def marker_text(record: dict[str, Any]) -> str:
    """A marker's one-line detail for the dashboards (terminal and console): the fault and its arguments, ..."""
    kind = record.get("kind")
    if kind == MarkerKind.FAULT_START:
        args = ", ".join(f"{k}={v!r}" for k, v in (record.get("args") or {}).items())
        return f"{record.get('action')}({args})"
    if kind == MarkerKind.FAULT_END:
        return str(record.get("description") or record.get("action") or "")
    if kind in (MarkerKind.FAULT_REVERTED, MarkerKind.FAULT_ABORTED):
        return f"{record.get('action')} by {record.get('by') or 'error: ' + str(record.get('error'))}"
    if kind == MarkerKind.RUN_INTERRUPTED:
        return str(record.get("signal") or "")
    if kind == MarkerKind.TARGET_HEALTHY:
        return f"after {record.get('waited_s')} s"
    return ""


class RunWatcher:
    """Reads a (live) run folder incrementally; :meth:`snapshot` is cheap enough for a few frames a second."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run
        self._timeline = RunTimelineFollower(run.path)  # every timeline of the run, read incrementally

    def __repr__(self) -> str:
        return f"RunWatcher({self.run!r})"

    def _meta(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.run.file("run.json").read_text())
        except (OSError, ValueError):
            return {}
        return data

    def snapshot(self, now: float | None = None) -> Snapshot:
        meta = self._meta()
        markers = list(self.run.records("markers.jsonl"))
        kinds = [str(m["kind"]) for m in markers]
        summary = self._summary()
        done = summary is not None
        if now is None:
            now = float(meta["ended_at"]) if done and meta.get("ended_at") else time.time()
        started = float(meta.get("started_at") or (markers[0]["ts"] if markers else now))
        fault_at = _last_fault_start(markers)
        self._timeline.poll()
        end_ms = self._window_end(self._timeline.end_ms, self._timeline.bucket_ms, now, done)
        since_ms = end_ms - WINDOW_S * 1000  # a frame reads its window (and the span since the fault), not the run
        if fault_at is not None:
            since_ms = min(since_ms, fault_at * 1000 - self._timeline.bucket_ms)
        timeline = self._timeline.timeline(since_ms=since_ms)
        traffic = _traffic(timeline, end_ms, fault_at)
        return Snapshot(
            name=self.run.path.name, scenario=str(meta.get("scenario") or self.run.path.name),
            elapsed_s=max(0.0, now - started),
            phase=derive_phase(kinds, failing=traffic.failing, done=done, warm=self._timeline.start_ms is not None,
                               interrupted=(summary or {}).get("status") == "interrupted"),
            interrupted=MarkerKind.RUN_INTERRUPTED in kinds, ok_rps=traffic.ok_rps, fail_rps=traffic.fail_rps,
            p95_ms=traffic.p95_ms, rto=self._rto(fault_at, traffic, now),
            markers=tuple(Marker(m["ts"] - started, m["kind"], marker_text(m)) for m in markers
                          if m["kind"] in FAULT_KINDS),
            **self._sample(), **self._ledger(),
            verdict=None if summary is None else _verdict(summary))

    @staticmethod
    def _window_end(timeline_end_ms: float | None, bucket_ms: int, now: float, done: bool) -> float:
        """Where the traffic window ends (epoch ms)."""
        if timeline_end_ms is None:
            return now * 1000
        # live: the newest bucket may still be arriving in pieces, so the window ends at its start
        return timeline_end_ms if done else timeline_end_ms - bucket_ms

    def _summary(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.run.file("summary.json").read_text())
        except (OSError, ValueError):
            return None
        return data

    def _rto(self, fault_at: float | None, traffic: _Traffic, now: float) -> Rto:
        if fault_at is None:
            return Rto("none")
        measured = [m for m in self.run.records("measurements.jsonl")
                    if m.get("kind") == MeasurementKind.RTO and float(m.get("fault_start") or 0) >= fault_at]
        if measured:
            last = measured[-1]
            value = last.get("rto_s")
            return Rto("measured", None if value is None else float(value), recovered=bool(last.get("recovered")))
        if traffic.failing:
            return Rto("so far", max(0.0, now - fault_at), failing=True)
        if traffic.last_fail_s is not None:
            return Rto("so far", max(0.0, traffic.last_fail_s - fault_at))
        return Rto("so far", 0.0)

    def _sample(self) -> dict[str, Any]:
        last: Sample | None = None
        error: str | None = None
        for sample in read_samples(self.run):
            if sample.error is not None:
                error = sample.error
            else:
                last, error = sample, None
        if last is None:
            return {"sample_error": error}
        return {"replicas": {region: (desired, ready) for region, desired, ready in last.replicas},
                "writer": last.writer, "writer_region": last.writer_region, "lag_s": dict(last.lag_s),
                "azs_down": last.azs_down, "sample_error": error}

    def _ledger(self) -> dict[str, Any]:
        records = read_ledger(self.run.path).records
        counts = {outcome: 0 for outcome in Outcome}
        for record in records:
            counts[record.outcome] += 1
        return {"acknowledged": counts[Outcome.OK], "failed_writes": counts[Outcome.FAILED] + counts[Outcome.REJECTED],
                "in_doubt": counts[Outcome.IN_DOUBT]}


def fault_in_progress(markers: list[dict[str, Any]]) -> bool:
    """True between a ``fault.start`` and its ``fault.end`` / ``fault.aborted`` (the injection itself)."""
    open_faults = 0
    for marker in markers:
        if marker["kind"] == MarkerKind.FAULT_START:
            open_faults += 1
        elif marker["kind"] in (MarkerKind.FAULT_END, MarkerKind.FAULT_ABORTED):
            open_faults = max(0, open_faults - 1)
    return open_faults > 0


def _last_fault_start(markers: list[dict[str, Any]]) -> float | None:
    aborted = {m.get("started_at") for m in markers if m["kind"] == MarkerKind.FAULT_ABORTED}
    starts = [float(m["ts"]) for m in markers if m["kind"] == MarkerKind.FAULT_START and m["ts"] not in aborted]
    return max(starts) if starts else None


def _verdict(summary: dict[str, Any]) -> str:
    word = "PASSED" if summary.get("passed") else "FAILED"
    return f"{word} (status {summary.get('status')})"
