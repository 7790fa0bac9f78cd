"""Prints how long the lab takes from `lab up` to serving through the front door (goal: <= 10 s).

    .venv/bin/python benchmarks/lab_startup.py [--runs 3]

Each run starts a fresh lab in a temporary AFTERSHOCK_HOME, measures wall time until
``GET /api/products/1`` through the front door answers 200, reads the supervisor's own figure
from the event log, and stops the lab.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from aftershock.cli.lab import start_lab, stop_lab
from aftershock.lab.events import read_events
from aftershock.lab.state import read_state


def one_run(home: Path) -> tuple[float, float]:
    os.environ["AFTERSHOCK_HOME"] = str(home)
    lab_dir = home / "lab"
    started = time.monotonic()
    start_lab(lab_dir, detach=True)
    state = read_state(lab_dir)
    assert state is not None
    while httpx.get(state.front_door_url + "/api/products/1", timeout=2).status_code != 200:
        time.sleep(0.02)
    wall = time.monotonic() - started
    ready = next(e for e in read_events(lab_dir / "events.jsonl") if e.kind == "lab.ready")
    stop_lab(lab_dir)
    return wall, float(ready.fields["startup_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    walls, internal = [], []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="aftershock-bench-") as tmp:
            wall, inside = one_run(Path(tmp))
        walls.append(wall)
        internal.append(inside)
        print(
            f"run {i + 1}: lab up -> product page through the front door {wall:.2f} s "
            f"(supervisor start -> front door /health {inside:.2f} s)"
        )
    print(
        f"median {statistics.median(walls):.2f} s, max {max(walls):.2f} s over {args.runs} runs "
        f"on {os.cpu_count()} cores (goal <= 10 s)"
    )


if __name__ == "__main__":
    main()
