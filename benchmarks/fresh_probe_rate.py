"""Prints the fresh-connection probe's achieved rate idle and under load (it must not be starved by the journeys).

    .venv/bin/python benchmarks/fresh_probe_rate.py [--duration 20] [--loads 1:2,20:2,200:0]

Needs a running lab (`aftershock lab up --detach`). Each load is USERS:TASK_RATE (task rate 0: as fast as the
journeys can go, i.e. the load generator saturated); `aftershock load` runs it with the probe at its default
20 requests/s and the 100 ms timeline; the rate is counted from the timeline over the steady middle of the run
(the first and last 3 s left out), next to the journeys' own rate.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from aftershock.core.timeline.store import read_timeline

EDGE_MS = 3000


def rates(run: Path) -> tuple[float, float]:
    """Requests/s of the fresh-connection probe and of everything else, over the steady middle of the run."""
    timeline = read_timeline(run)
    start, end = timeline.start_ms, timeline.end_ms
    assert start is not None and end is not None, f"no timeline in {run}"
    lo, hi = start + EDGE_MS, end - EDGE_MS
    seconds = (hi - lo) / 1000
    inside = [b for b in timeline.buckets if lo <= b.start_ms < hi]
    fresh = sum(b.total for b in inside if b.name.startswith("fresh:"))
    other = sum(b.total for b in inside if not b.name.startswith("fresh:"))
    return fresh / seconds, other / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--loads", default="1:2,20:2,200:0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fresh-rate-") as tmp:
        for index, load in enumerate(args.loads.split(",")):
            users, task_rate = load.split(":")
            out = Path(tmp) / f"run-{index}"
            subprocess.run([sys.executable, "-m", "aftershock", "load", "--users", users, "--task-rate", task_rate,
                            "--duration", f"{args.duration}s", "--out", str(out)], check=True, capture_output=True,
                           timeout=args.duration + 120)
            fresh, other = rates(out)
            print(f"users {users:>4} task rate {task_rate:>3}: fresh-connection probe {fresh:5.1f} req/s "
                  f"(target 20), journeys {other:7.1f} req/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
