"""How much of one core the Locust master spends merging and writing the timeline of many workers.

Feeds the master's real handler (``TimelinePlugin._on_worker_report``, what Locust calls for every worker
report) with simulated reports in the format workers send: JSON lines the master appends without decoding
(before that design it decoded and re-encoded every bucket: 282 % of a core for 1,000 workers). Each worker
reports every 0.5 s the 100 ms buckets of 12 request names (5 buckets each, about 20 requests per bucket and
name, a few failures), as ``TimelineRecorder`` makes them. Prints the master's CPU seconds per second of load
for 50, 200 and 1,000 workers. Goal: 1,000 workers under 50 % of one core.

    .venv/bin/python benchmarks/timeline_master.py
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from aftershock.core.timeline.store import TimelineWriter, encode_bucket, encode_lines
from aftershock.loadtests.timeline_plugin import REPORT_INTERVAL_S, REPORT_KEY, TimelinePlugin, TimelineRecorder

NAMES = [f"GET /api/endpoint-{n}" for n in range(12)]
SECONDS = 5.0  # of simulated load per worker count


def _report(worker: int, start_s: float, rng: random.Random) -> str:
    """One worker's report: 0.5 s of buckets for every name, encoded as a worker sends them (JSON lines)."""
    recorder = TimelineRecorder(100)
    for name in NAMES:
        for bucket in range(5):
            for _ in range(20):
                failed = rng.random() < 0.02
                recorder.on_request(name=name, response_time=rng.uniform(2, 300),
                                    exception=ConnectionRefusedError() if failed else None,
                                    start_time=start_s + bucket * 0.1 + rng.random() * 0.1)
    return encode_lines(encode_bucket(b, source=f"worker-{worker}") for b in recorder.drain())


def master_cpu_per_second(workers: int, folder: Path) -> float:
    """CPU seconds the master's handler needs per second of load from ``workers`` workers."""
    rng = random.Random(workers)
    reports = [_report(w, 1_800_000_000.0, rng) for w in range(min(workers, 50))]  # reused: content is typical
    plugin = TimelinePlugin.__new__(TimelinePlugin)  # the master half only: no Locust environment needed
    plugin.writer = TimelineWriter(folder / f"timeline-{workers}.jsonl", bucket_ms=100, writer="master")
    rounds = int(SECONDS / REPORT_INTERVAL_S)
    started = time.process_time()
    for _ in range(rounds):
        for worker in range(workers):
            plugin._on_worker_report(f"worker-{worker}", {REPORT_KEY: reports[worker % len(reports)]})
    cpu = time.process_time() - started
    plugin.writer.close()
    return cpu / SECONDS


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aftershock-master-") as tmp:
        print(f"master CPU per second of load ({len(NAMES)} names, reports every {REPORT_INTERVAL_S} s):")
        for workers in (50, 200, 1000):
            share = master_cpu_per_second(workers, Path(tmp))
            verdict = "ok" if workers != 1000 or share < 0.5 else "OVER the 50 % goal"
            print(f"  {workers:5d} workers: {share * 100:6.1f} % of one core  {verdict}")


if __name__ == "__main__":
    main()
