"""Synthetic run folders in the real formats (the timeline written with TimelineWriter)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aftershock.core.timeline.model import Bucket, LatencyHistogram, latency_bin
from aftershock.core.timeline.store import TimelineWriter

START = 1_795_264_000.0
DATA = Path(__file__).parent / "data"

MakeRun = Callable[..., Path]


def _write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _timeline(run_dir: Path, seconds: int, outage: tuple[float, float]) -> None:
    buckets = []
    for i in range(seconds * 10):
        start_ms = int(START * 1000) + i * 100
        down = outage[0] * 1000 <= start_ms < outage[1] * 1000
        for name in ("GET /api/products", "fresh:GET /health"):
            ok, fail = (0, 3) if down else (4, 0)
            latency = 900.0 if down else 12.0 + (i % 7)
            buckets.append(Bucket(
                start_ms=start_ms, bucket_ms=100, name=name, ok=ok, fail=fail,
                hist=LatencyHistogram.from_mapping({latency_bin(latency): ok + fail}), max_ms=latency,
                first_ok_ms=start_ms + 5.0 if ok else None, last_ok_ms=start_ms + 80.0 if ok else None,
                first_fail_ms=start_ms + 5.0 if fail else None, last_fail_ms=start_ms + 80.0 if fail else None,
                errors=(("http 503", fail),) if fail else ()))
    with TimelineWriter(run_dir / "timeline.jsonl", bucket_ms=100) as out:
        out.write(buckets)


def _journal(deviated: bool) -> dict[str, Any]:
    def step(name: str, kind: str, start: str, duration: float, **extra: Any) -> dict[str, Any]:
        return {"activity": {"type": kind, "name": name}, "status": "succeeded", "start": start,
                "end": start, "duration": duration, **extra}

    return {
        "experiment": {"title": "Half of the pods die", "tags": ["eks"]},
        "status": "completed", "deviated": deviated,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [
                step("error-rate-within-slo", "probe", "2026-11-21T12:26:42+00:00", 0.01, tolerance_met=True)]},
            "after": {"steady_state_met": not deviated, "probes": [
                step("error-rate-within-slo", "probe", "2026-11-21T12:26:58+00:00", 0.01,
                     tolerance_met=not deviated)]},
        },
        "run": [step("kill-half-the-pods", "action", "2026-11-21T12:26:43+00:00", 0.2),
                step("rto", "probe", "2026-11-21T12:26:43+00:00", 12.0)],
        "rollbacks": [step("revert-faults", "action", "2026-11-21T12:26:59+00:00", 0.1)],
    }


def make_run(base: Path, *, name: str = "20261121T122640Z-pod-kill", rto_s: float = 4.0,
             rto_target: float = 10.0, partial: bool = False, deviated: bool = False,
             seconds: int = 20, with_timeline: bool = True, rto_error_s: float | None = None) -> Path:
    """A run folder: 20 s of traffic with a 4 s outage from +6 s; ``partial`` leaves out summary and journal;
    ``rto_error_s``: the RTO's error bar (none: a run recorded before RTOs had one)."""
    run_dir = base / name
    run_dir.mkdir(parents=True)
    outage = (START + 6.0, START + 6.0 + rto_s)
    (run_dir / "run.json").write_text(json.dumps({
        "experiment": "experiments/pod-kill.yaml", "title": "Half of the pods die", "scenario": "pod-kill",
        "target": "lab", "started_at": START, "objectives": {"rto_s": rto_target, "rpo_s": 0.0},
        **({} if partial else {"ended_at": START + seconds}),
    }))
    if with_timeline:
        _timeline(run_dir, seconds, outage)
    markers = [
        {"ts": START + 1.0, "kind": "hypothesis.start"},
        {"ts": START + 1.1, "kind": "hypothesis.end", "met": True},
        {"ts": START + 5.9, "kind": "method.start"},
        {"ts": START + 5.9, "kind": "activity.start", "name": "kill-half-the-pods", "type": "action"},
        {"ts": START + 6.0, "kind": "fault.start", "action": "kill_pods"},
        {"ts": START + 6.1, "kind": "fault.end", "action": "kill_pods"},
        {"ts": START + 6.2, "kind": "activity.end", "name": "kill-half-the-pods", "type": "action",
         "status": "succeeded"},
        {"ts": START + 6.2, "kind": "activity.start", "name": "rto", "type": "probe"},
    ]
    if not partial:
        markers += [{"ts": START + 16.0, "kind": "activity.end", "name": "rto", "type": "probe",
                     "status": "succeeded"},
                    {"ts": START + 17.0, "kind": "rollbacks.start"},
                    {"ts": START + 17.5, "kind": "fault.reverted", "action": "kill_pods", "fault_id": "abc"}]
    _write_lines(run_dir / "markers.jsonl", markers)
    _write_lines(run_dir / "samples.jsonl", [
        {"ts": START + i * 0.5, "writer": "shop-east-a", "writer_region": "us-east-1",
         "replicas": {"us-east-1": {"desired": 4, "ready": 2 if outage[0] <= START + i * 0.5 < outage[1] else 4},
                      "us-west-2": {"desired": 2, "ready": 2}},
         "replication_lag_s": {"shop-east-b": 0.01 * (i % 5)}, "replication_lag_bytes": {"shop-east-b": 0}}
        for i in range(seconds * 2)])
    outages = [{"start": outage[0], "end": outage[1], "failures": int(rto_s * 60), "errors": {"http 503": 1}}]
    _write_lines(run_dir / "measurements.jsonl", [
        {"ts": START + 16.0, "kind": "rto", "recovered": True, "rto_s": rto_s, "outages": outages,
         **({} if rto_error_s is None else {"rto_error_s": rto_error_s, "slow_ms": 1000.0})}])
    if partial:
        return run_dir
    met = rto_s <= rto_target
    ledger = {"attempted": 200, "acknowledged": 198, "kept": 198, "lost": 0, "in_doubt": 0, "rpo_s": 0.0}
    summary = {
        "scenario": "pod-kill", "disruption": "application", "target": "lab", "status": "completed",
        "deviated": deviated, "passed": met and not deviated, "partial": False,
        "figures": {"rto_s": rto_s, **({} if rto_error_s is None else {"rto_error_s": rto_error_s, "slow_ms": 1000.0}),
                    "outages": outages, "rpo_s": 0.0, "lost_writes": 0, "in_doubt_writes": 0,
                    "ledger": ledger, "traffic": [{"name": "TOTAL", "requests": 1600, "failures": 40, "rps": 80.0,
                                                   "p50_ms": 13.0, "p95_ms": 18.0, "p99_ms": 900.0}]},
        "objectives": [{"name": "rto_s", "target": rto_target, "measured": rto_s, "met": met, "unit": "s"},
                       {"name": "rpo_s", "target": 0.0, "measured": 0.0, "met": True, "unit": "s"}],
        "errors": [], "exit_code": 0 if met and not deviated else 1,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "journal.json").write_text(json.dumps(_journal(deviated)))
    return run_dir
