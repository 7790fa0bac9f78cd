"""Benchmark: render every report of a generated 2-hour run at 100 ms resolution (goal: <= 5 s).

Generates 72,000 buckets x 4 request names (288,000 timeline lines, written with the real
``TimelineWriter``), samples every 0.5 s, markers, a ledger result and a summary, with a 90-second outage
in the middle, then times ``write_reports`` (load + charts + HTML + Markdown + JUnit, no history).

    .venv/bin/python benchmarks/report_render.py [--minutes 120] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from aftershock.core.timeline.model import Bucket, LatencyHistogram, latency_bin
from aftershock.core.timeline.store import TimelineWriter
from aftershock.reports.write import write_reports

NAMES = ("GET /api/products", "GET /api/products/{id}", "POST /api/cart/items", "fresh:GET /health")
GOAL_S = 5.0


def _bucket(rng: random.Random, start_ms: int, name: str, outage: bool) -> Bucket:
    total = rng.randint(3, 9)
    fail = total if outage else (1 if rng.random() < 0.002 else 0)
    ok = total - fail
    latencies = [rng.lognormvariate(2.8, 0.5) for _ in range(3)]
    hist = LatencyHistogram.from_mapping({latency_bin(latencies[0]): total - 2, latency_bin(latencies[1]): 1,
                                          latency_bin(latencies[2]): 1})
    return Bucket(start_ms=start_ms, bucket_ms=100, name=name, ok=ok, fail=fail, hist=hist, max_ms=max(latencies),
                  first_ok_ms=start_ms + 1.0 if ok else None, last_ok_ms=start_ms + 90.0 if ok else None,
                  first_fail_ms=start_ms + 2.0 if fail else None, last_fail_ms=start_ms + 95.0 if fail else None,
                  errors=(("http 503", fail),) if fail else ())


def generate(run_dir: Path, minutes: float) -> None:
    rng = random.Random(7)
    start = 1_795_000_000.0
    seconds = minutes * 60
    outage = (start + seconds / 2, start + seconds / 2 + 90)
    with TimelineWriter(run_dir / "timeline.jsonl", bucket_ms=100) as out:
        chunk: list[Bucket] = []
        for i in range(int(seconds * 10)):
            start_ms = int(start * 1000) + i * 100
            down = outage[0] * 1000 <= start_ms < outage[1] * 1000
            chunk.extend(_bucket(rng, start_ms, name, down) for name in NAMES)
            if len(chunk) >= 4000:
                out.write(chunk)
                chunk = []
        out.write(chunk)
    with (run_dir / "samples.jsonl").open("w") as fh:
        for i in range(int(seconds * 2)):
            ts = start + i * 0.5
            west = ts >= outage[0]
            fh.write(json.dumps({
                "ts": ts, "writer": "shop-west-a" if west else "shop-east-a",
                "writer_region": "us-west-2" if west else "us-east-1",
                "replicas": {"us-east-1": {"desired": 3, "ready": 1 if outage[0] <= ts < outage[1] else 3},
                             "us-west-2": {"desired": 2, "ready": 2}},
                "replication_lag_s": {"shop-east-b": rng.random() * 0.05, "shop-west-a": rng.random() * 0.1},
                "replication_lag_bytes": {"shop-east-b": 0, "shop-west-a": 0},
            }) + "\n")
    markers = [{"ts": outage[0], "kind": "fault.start", "action": "failover_global_database"},
               {"ts": outage[1] + 600, "kind": "rollbacks.start"},
               {"ts": outage[1] + 601, "kind": "fault.reverted", "action": "failover_global_database"}]
    (run_dir / "markers.jsonl").write_text("".join(json.dumps(m) + "\n" for m in markers))
    (run_dir / "run.json").write_text(json.dumps({"scenario": "benchmark", "title": "2-hour benchmark run",
                                                  "target": "lab", "started_at": start, "ended_at": start + seconds,
                                                  "objectives": {"rto_s": 120.0}}))
    (run_dir / "journal.json").write_text(json.dumps({"status": "completed", "deviated": False, "run": []}))
    (run_dir / "summary.json").write_text(json.dumps({
        "scenario": "benchmark", "disruption": "region", "target": "lab", "status": "completed", "deviated": False,
        "passed": True, "partial": False,
        "figures": {"rto_s": 90.0, "outages": [{"start": outage[0], "end": outage[1], "failures": 3600}]},
        "objectives": [{"name": "rto_s", "target": 120.0, "measured": 90.0, "met": True, "unit": "s"}],
        "errors": [], "exit_code": 0}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--keep", type=Path, default=None, help="Write the run folder here and keep it.")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="aftershock-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        generate(base, args.minutes)
        generated = time.perf_counter() - t0
        size_mb = sum(f.stat().st_size for f in base.iterdir()) / 1e6
        t1, cpu1 = time.perf_counter(), time.process_time()
        paths = write_reports(base, record_history=False)
        elapsed, cpu = time.perf_counter() - t1, time.process_time() - cpu1
        html_kb = paths.html.stat().st_size / 1000
        verdict = "OK" if elapsed <= GOAL_S else "TOO SLOW"
        print(f"generated {args.minutes:g} min run ({size_mb:.1f} MB) in {generated:.1f} s")
        print(f"rendered report.html ({html_kb:.0f} KB), report.md, junit.xml in {elapsed:.2f} s "
              f"({cpu:.2f} s CPU; goal <= {GOAL_S:g} s): {verdict}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
