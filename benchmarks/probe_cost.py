"""Benchmark: the cost of one RTO-probe poll and one SLO-probe poll on a 1-minute and a 60-minute run
(goal: 60-minute / 1-minute < 1.5, i.e. a poll's cost does not grow with the run's length).

Writes both timelines with the real ``TimelineWriter`` (4 request names, 100 ms buckets, a 3-second outage 20 s
before the end, ending now), reads each once (the follower's catch-up, printed apart), then alternates the two
runs poll by poll, as a live run does: the writer appends 0.25 s of buckets, then one RTO poll
(:func:`~aftershock.probes.recovery.poll_rto`) and one SLO poll (:func:`~aftershock.probes.slo.poll_window`)
read them. Prints the median and p90 per poll, the ratio of the medians, and, for contrast, one full re-read of
each timeline (what every poll cost before the follower).

    .venv/bin/python benchmarks/probe_cost.py [--polls 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.model import Bucket, LatencyHistogram, latency_bin
from aftershock.core.timeline.outages import find_outages
from aftershock.core.timeline.store import TimelineWriter, read_timeline
from aftershock.probes.recovery import poll_rto
from aftershock.probes.slo import poll_window

NAMES = ("GET /api/products", "GET /api/products/{id}", "POST /api/cart/items", "fresh:GET /health")
GOAL_RATIO = 1.5
BUCKET_MS = 100
APPEND_BUCKETS = 3  # 0.25-0.3 s of traffic between two polls, as the probes poll every 0.25 s


def _bucket(rng: random.Random, start_ms: int, name: str, down: bool) -> Bucket:
    total = rng.randint(3, 9)
    fail = total if down else 0
    ok = total - fail
    latencies = [rng.lognormvariate(2.8, 0.5) for _ in range(3)]
    hist = LatencyHistogram.from_mapping({latency_bin(latencies[0]): total - 2, latency_bin(latencies[1]): 1,
                                          latency_bin(latencies[2]): 1})
    return Bucket(start_ms=start_ms, bucket_ms=BUCKET_MS, name=name, ok=ok, fail=fail, hist=hist,
                  max_ms=max(latencies), first_ok_ms=start_ms + 1.0 if ok else None,
                  last_ok_ms=start_ms + 90.0 if ok else None, first_fail_ms=start_ms + 2.0 if fail else None,
                  last_fail_ms=start_ms + 95.0 if fail else None, errors=(("http 503", fail),) if fail else ())


@dataclass
class LiveRun:
    """A synthetic run that keeps growing: its writer appends buckets up to the current time."""

    path: Path
    minutes: float
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    next_ms: int = 0
    fault_ms: float = 0.0
    writer: TimelineWriter | None = None
    rto_s: list[float] = field(default_factory=list)
    slo_s: list[float] = field(default_factory=list)

    def create(self) -> None:
        self.path.mkdir(parents=True)
        end_ms = int(time.time() * 1000) // BUCKET_MS * BUCKET_MS
        self.next_ms = end_ms - int(self.minutes * 60_000)
        self.fault_ms = end_ms - 20_000
        self.writer = TimelineWriter(self.path / "timeline.jsonl", bucket_ms=BUCKET_MS, writer="master")
        while self.next_ms < end_ms:
            self.append(min(1000, (end_ms - self.next_ms) // BUCKET_MS))

    def append(self, buckets: int) -> None:
        assert self.writer is not None
        chunk = []
        for _ in range(buckets):
            down = self.fault_ms + 500 <= self.next_ms < self.fault_ms + 3500
            chunk.extend(_bucket(self.rng, self.next_ms, name, down) for name in NAMES)
            self.next_ms += BUCKET_MS
        self.writer.write(chunk)

    @property
    def run(self) -> RunFolder:
        return RunFolder(self.path)

    def poll_rto(self) -> None:
        poll_rto(self.run, self.fault_ms, sustain_ms=3000)

    def poll_slo(self) -> None:
        poll_window(self.run, 5.0)

    def full_read(self) -> None:
        """What a poll did before the follower: read the whole file, then analyse it."""
        find_outages(read_timeline(self.path))


def _timed(call: Callable[[], None]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=200, help="polls per run and probe (default 200)")
    parser.add_argument("--keep", type=Path, help="write the runs here and keep them")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="aftershock-probe-cost-"))
    try:
        runs = [LiveRun(base / "1min", 1.0), LiveRun(base / "60min", 60.0)]
        for live in runs:
            wrote = _timed(live.create)
            size_mb = (live.path / "timeline.jsonl").stat().st_size / 1e6
            catch_up = _timed(live.poll_rto)  # the follower's first read: the whole file, once per run
            live.poll_slo()
            print(f"{live.minutes:4.0f} min: {size_mb:6.1f} MB written in {wrote:5.2f} s, "
                  f"follower's first read {catch_up * 1000:8.1f} ms (once per run)")
        for index in range(args.polls):  # side by side: the two runs alternate poll by poll, each going first
            for live in runs if index % 2 else runs[::-1]:  # half the time (caches, garbage collection)
                live.append(APPEND_BUCKETS)
                live.rto_s.append(_timed(live.poll_rto))
                live.slo_s.append(_timed(live.poll_slo))
        print(f"{'run':>8} {'RTO poll p50':>13} {'p90':>8} {'SLO poll p50':>13} {'p90':>8} {'full re-read':>13}")
        for live in runs:
            full = _timed(live.full_read)
            print(f"{live.minutes:4.0f} min {_ms(live.rto_s, 0.5):10.3f} ms {_ms(live.rto_s, 0.9):8.3f} "
                  f"{_ms(live.slo_s, 0.5):10.3f} ms {_ms(live.slo_s, 0.9):8.3f} {full * 1000:10.1f} ms")
        short, long = runs
        rto_ratio = statistics.median(long.rto_s) / statistics.median(short.rto_s)
        slo_ratio = statistics.median(long.slo_s) / statistics.median(short.slo_s)
        ok = rto_ratio < GOAL_RATIO and slo_ratio < GOAL_RATIO
        print(f"ratio 60 min / 1 min (medians): RTO poll {rto_ratio:.2f}, SLO poll {slo_ratio:.2f} "
              f"(goal < {GOAL_RATIO}): {'ok' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        for live in runs:
            if live.writer is not None:
                live.writer.close()
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
