"""Synthetic live run folders in the real formats (timeline written with TimelineWriter, ledger lines as the
writer writes them), placed relative to the current time so the dashboard sees them as live."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aftershock.core.timeline.model import Bucket, LatencyHistogram, latency_bin
from aftershock.core.timeline.store import TimelineWriter
from aftershock.probes.ledger.record import LedgerRecord, Outcome, format_line

FAULT_AT_S = 10.0  # seconds after the start of the run


def _lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def write_run(base: Path, *, start: float, seconds: float, fail_from: float | None = None,
              fail_until: float | None = None, markers: Sequence[tuple[float, str, dict[str, Any]]] = (),
              summary: dict[str, Any] | None = None, measurements: Sequence[dict[str, Any]] = (),
              name: str = "20261121T130000Z-az-outage") -> Path:
    """A run of ``seconds`` of traffic from ``start`` (10 ok requests per 100 ms bucket, or 4 failed ones from
    ``start + fail_from`` to ``start + fail_until``), the given markers (offset, kind, fields) and files."""
    run = base / name
    (run / "logs").mkdir(parents=True)
    meta: dict[str, Any] = {"experiment": "experiments/az-outage.yaml", "scenario": "az-outage", "target": "lab",
                            "started_at": start}
    if summary is not None:
        meta["ended_at"] = start + seconds
    (run / "run.json").write_text(json.dumps(meta))
    buckets = []
    first_ms = int(start * 10) * 100
    for i in range(int(seconds * 10)):
        start_ms = first_ms + i * 100
        offset = (start_ms - start * 1000) / 1000
        down = fail_from is not None and fail_from <= offset and (fail_until is None or offset < fail_until)
        ok, fail = (0, 4) if down else (10, 0)
        latency = 800.0 if down else 20.0
        buckets.append(Bucket(start_ms=start_ms, bucket_ms=100, name="GET /api/products/{id}", ok=ok, fail=fail,
                              hist=LatencyHistogram.from_mapping({latency_bin(latency): ok + fail}), max_ms=latency,
                              first_ok_ms=start_ms + 1.0 if ok else None, last_ok_ms=start_ms + 90.0 if ok else None,
                              first_fail_ms=start_ms + 1.0 if fail else None,
                              last_fail_ms=start_ms + 90.0 if fail else None,
                              errors=(("http 503", fail),) if fail else ()))
    with TimelineWriter(run / "timeline.jsonl", bucket_ms=100) as out:
        out.write(buckets)
    _lines(run / "markers.jsonl", [{"ts": start + at, "kind": kind, **fields} for at, kind, fields in markers])
    _lines(run / "samples.jsonl", [
        {"ts": start + 1, "writer": "shop-east-a", "writer_region": "us-east-1",
         "replicas": {"us-east-1": {"desired": 3, "ready": 3}, "us-west-2": {"desired": 2, "ready": 2}},
         "dials": {"us-east-1": 100, "us-west-2": 0}, "azs_down": [], "replication_lag_s": {"shop-east-b": 0.01},
         "healthy": True},
        {"ts": start + seconds - 0.5, "writer": "shop-east-b", "writer_region": "us-east-1",
         "replicas": {"us-east-1": {"desired": 3, "ready": 2}, "us-west-2": {"desired": 2, "ready": 2}},
         "dials": {"us-east-1": 100, "us-west-2": 0}, "azs_down": ["us-east-1a"],
         "replication_lag_s": {"shop-west-a": 0.25}, "healthy": False},
    ])
    ledger = [format_line({"kind": "meta", "version": 1, "run_id": name, "seq_base": 1, "rate_per_s": 25.0,
                           "endpoint": "127.0.0.1:1", "started_at": start, "pid": 1})]
    for seq in range(1, 121):
        sent = start + seq * 0.04
        outcome = Outcome.OK if seq <= 100 else (Outcome.IN_DOUBT if seq == 101 else Outcome.FAILED)
        record = LedgerRecord(name, seq, sent, sent + 0.002 if outcome is Outcome.OK else None, outcome)
        ledger.append(format_line(record.to_json()))
    (run / "ledger.jsonl").write_text("".join(ledger))
    _lines(run / "measurements.jsonl", list(measurements))
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary))
    return run


BEFORE_FAULT = [(3.0, "load.warm", {"requests": 300}), (3.1, "hypothesis.start", {}),
                (3.2, "hypothesis.end", {"met": True}), (3.3, "method.start", {})]
FAULT = [(FAULT_AT_S, "fault.start", {"action": "az_outage", "args": {"az": ""}}),
         (FAULT_AT_S + 0.05, "fault.end", {"action": "az_outage", "description": "AZ us-east-1a is down"})]
