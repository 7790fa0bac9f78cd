"""Benchmark: CPU of the web console (``aftershock serve``) per watching browser during a real run with a 100 ms
timeline at the lab's full load, with 1 and with 10 watchers (goal: 10 watchers < 10 % of one core).

The lab's full load: :data:`FULL_LOAD_USERS` = 100 users, the most any bundled experiment puts on the lab (the
scale-out spike: 80 users on top of the 20 every experiment runs, which is also the soak's load,
``benchmarks/soak.py``); ``--users 20`` measures the usual load.

Starts a lab in a temporary home, the console as a subprocess, and a short az-outage run at ``--users`` users.
While the run goes (after the fault), it measures the console process's CPU time (``/proc/<pid>/stat``, user +
system) over ``--window`` seconds with 10, 1 and 0 event-stream clients (each one what a browser tab holds open:
the run's ``/events/run/...`` stream), counts the updates each client got, and the requests/s the timeline
recorded over the measurement.

    .venv/bin/python benchmarks/console_live.py [--users 100] [--window 6]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
GOAL = 10.0  # % of one core for 10 watchers
FULL_LOAD_USERS = 100
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def watch(url: str, stop: threading.Event, counts: list[int], slot: int) -> None:
    with httpx.Client(timeout=30) as client, client.stream("GET", url) as response:
        for chunk in response.iter_text():
            counts[slot] += chunk.count("event: panels")
            if stop.is_set():
                return


def measure(pid: int, url: str, watchers: int, window: float) -> tuple[float, list[int]]:
    stop, counts = threading.Event(), [0] * watchers
    threads = [threading.Thread(target=watch, args=(url, stop, counts, i), daemon=True) for i in range(watchers)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # connected, first full frame sent
    counts[:] = [0] * watchers
    before = cpu_s(pid)
    time.sleep(window)
    used = cpu_s(pid) - before
    got = list(counts)
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    return 100.0 * used / window, got


def main() -> None:  # long: one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=FULL_LOAD_USERS)
    parser.add_argument("--window", type=float, default=6.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="console-bench-"))
    os.environ["AFTERSHOCK_HOME"] = str(tmp / "home")
    from tests.labkit import start_test_lab, write_short_az_outage

    lab = start_test_lab(tmp / "home" / "lab")
    runs = tmp / "runs"
    runs.mkdir()
    console = subprocess.Popen([sys.executable, "-m", "aftershock", "serve", "--runs", str(runs)],
                               stdout=subprocess.PIPE, text=True)
    run = None
    try:
        assert console.stdout is not None
        base = re.search(r"http://\S+/", console.stdout.readline())
        assert base is not None, "the console did not start"
        lab.wait_healthy()
        experiment = write_short_az_outage(tmp / "az.yaml", users=args.users)
        data = yaml.safe_load(experiment.read_text())
        data["method"][0]["pauses"] = {"after": 3 * args.window + 10}  # the run stays live while measured
        data.pop("steady-state-hypothesis", None)  # at full load the shop may miss its SLO: inject all the same
        experiment.write_text(yaml.safe_dump(data, sort_keys=False))
        run = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(experiment), "--out", str(runs)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and '"kind":"fault.end"' not in "".join(
                p.read_text() for p in runs.glob("*/markers.jsonl")):
            time.sleep(0.2)
        folder = next(runs.glob("*/run.json")).parent
        url = f"{base.group(0)}events/run/{folder.name}"
        print(f"run {folder.name} at {args.users} users; console pid {console.pid}; window {args.window:g} s")
        began = time.time()
        ten, ten_counts = measure(console.pid, url, 10, args.window)
        one, one_counts = measure(console.pid, url, 1, args.window)
        idle, _ = measure(console.pid, url, 0, args.window)
        alive = run.poll() is None
        ended = time.time()
        from aftershock.core.timeline.store import read_timeline

        measured = [b for b in read_timeline(folder).buckets if began * 1000 <= b.start_ms < ended * 1000]
        bucket_ms = read_timeline(folder).bucket_ms
        rate = sum(b.ok + b.fail for b in measured) / max(1e-9, ended - began)
        print(f"  timeline: {bucket_ms} ms buckets, {rate:.0f} requests/s during the measurement "
              f"({len({b.name for b in measured})} request names)")
        timeline = sum(p.stat().st_size for p in folder.glob("timeline*.jsonl"))
        print(f"  0 watchers: {idle:5.1f} % of one core")
        print(f"  1 watcher : {one:5.1f} % ({one - idle:.1f} % for the watcher); "
              f"{one_counts[0] / args.window:.1f} updates/s")
        print(f" 10 watchers: {ten:5.1f} % ({(ten - idle) / 10:.2f} % per watcher); updates/s per watcher "
              f"min {min(ten_counts) / args.window:.1f} max {max(ten_counts) / args.window:.1f}")
        ended = "" if alive else " (the run ended during the measurement: rerun with a shorter --window)"
        print(f"goal: 10 watchers < {GOAL:g} % of one core: {'MET' if ten < GOAL else 'MISSED'}{ended}")
        print(f"timeline written so far: {timeline / 1e6:.2f} MB")
    finally:
        if run is not None:
            run.wait(timeout=180)
        console.send_signal(signal.SIGINT)
        console.wait(timeout=60)
        lab.stop()


if __name__ == "__main__":
    main()
