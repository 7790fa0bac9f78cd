"""Soak: the lab under load for N minutes, with what ``aftershock run`` keeps running around an experiment (Locust,
the RPO ledger, the sampler), and how the harness behaves as the run grows (issue 14 item 3).

Not a test: run ``.venv/bin/python benchmarks/soak.py [--minutes 10] [--users 20]``. It starts a private lab (its
own ``$AFTERSHOCK_HOME`` in a temporary folder, or uses the one at ``--home``), starts the run session in this
process (the temporary home is removed at the end unless ``--keep``), and prints once a minute:

- the RSS of the harness (this process), of the Locust master and of the lab supervisor;
- the run folder's size and its growth rate per 1k requests;
- the cost of one RTO-probe poll (a fault 20 s ago) and one SLO-probe poll (a 5 s window) on the growing timeline
  (median of 20).

The probe polls run here as a real run's probes do (in the harness process, on the shared timeline follower); the
benchmark's own bookkeeping reads only what was appended since the previous minute, so it does not grow with the
run. ``--trace N`` adds, per minute, what grew most since the previous minute (tracemalloc, N frames per
traceback; tracing costs memory itself, so take the RSS figures from a run without it).

At the end it compares the last minute with the second (goal: memory within 10 %, probe cost flat) and
extrapolates the run folder to 2 hours.
"""

from __future__ import annotations

import argparse
import functools
import linecache
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aftershock.core.runfolder import RunFolder  # noqa: E402
from aftershock.core.timeline.records import parse_records  # noqa: E402
from aftershock.planning import resolve_plan  # noqa: E402
from aftershock.probes.recovery import poll_rto  # noqa: E402
from aftershock.probes.slo import poll_window  # noqa: E402
from aftershock.session import RunSession  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1 << 20)


def median_ms(call: Callable[[], object], repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class RequestCount:
    """Requests in a run folder's timeline files so far, counted from what was appended since the last call."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.offsets: dict[Path, int] = {}
        self.total = 0

    def __call__(self) -> int:
        for path in sorted(self.run_dir.glob("timeline*.jsonl")):
            with open(path, "rb") as file:
                file.seek(self.offsets.get(path, 0))
                data = file.read()
            complete = data[:data.rfind(b"\n") + 1]
            self.offsets[path] = self.offsets.get(path, 0) + len(complete)
            self.total += sum(piece.total for piece in parse_records(complete)[0])
        return self.total


def print_growth(previous: tracemalloc.Snapshot | None, top: int = 8) -> tracemalloc.Snapshot:
    """What was allocated and is still alive, grown most since ``previous`` (by traceback), and the new snapshot."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__),
                                                          tracemalloc.Filter(False, linecache.__file__)])
    traced, peak = tracemalloc.get_traced_memory()
    print(f"     traced {traced / (1 << 20):.1f} MiB (peak {peak / (1 << 20):.1f})", flush=True)
    if previous is not None:
        for stat in snapshot.compare_to(previous, "traceback")[:top]:
            where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(stat.traceback))
            print(f"     {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+7d} blocks  {where}", flush=True)
    return snapshot


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--home", type=Path, default=None, help="an AFTERSHOCK_HOME whose lab is already running")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (lab and run folder)")
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="print what grew each minute (tracemalloc with FRAMES frames; inflates the RSS)")
    args = parser.parse_args()
    if args.trace:
        tracemalloc.start(args.trace)

    from aftershock.cli.lab import start_lab, stop_lab
    from aftershock.lab.state import read_state

    home = args.home or Path(tempfile.mkdtemp(prefix="aftershock-soak-"))
    os.environ["AFTERSHOCK_HOME"] = str(home)
    lab_dir = home / "lab"
    supervisor = None if args.home else start_lab(lab_dir, detach=True)
    state = read_state(lab_dir)
    assert state is not None, f"no lab state in {lab_dir}"
    run = RunFolder.create(home / "runs", "soak")
    plan = resolve_plan({}, experiment="soak", target_ref="lab",
                        load={"users": args.users, "load_duration_s": args.minutes * 60 + 120, "ledger": True},
                        started_at=time.time())
    from aftershock.core.plan import write_plan

    write_plan(run, plan)
    session = RunSession.begin(run, plan)
    fault_ms = time.time() * 1000
    assert session.load is not None
    master = session.load.procs[0].pid
    print(f"soak: {args.users} users for {args.minutes:g} min, run folder {run.path}", flush=True)
    print(f"{'min':>4} {'harness MiB':>11} {'locust MiB':>10} {'lab MiB':>8} {'folder MiB':>10} "
          f"{'requests':>9} {'MiB/1k req':>10} {'rto poll ms':>11} {'slo poll ms':>11}", flush=True)
    rows: list[tuple[float, float, float, float, float]] = []
    count_requests = RequestCount(run.path)
    snapshot = print_growth(None) if args.trace else None
    try:
        for minute in range(1, int(args.minutes) + 1):
            time.sleep(max(0.0, fault_ms / 1000 + minute * 60 - time.time()))
            size = folder_mib(run.path)
            requests = count_requests()
            recent_fault_ms = time.time() * 1000 - 20_000  # as the RTO probe polls, 20 s after a fault
            rto_ms = median_ms(functools.partial(poll_rto, run, recent_fault_ms, sustain_ms=3000))
            slo_ms = median_ms(functools.partial(poll_window, run, 5.0))
            row = (rss_mib(os.getpid()), rss_mib(master), rss_mib(state.pid), rto_ms, slo_ms)
            rows.append(row)
            per_k = size / (requests / 1000) if requests else 0.0
            print(f"{minute:>4} {row[0]:>11.1f} {row[1]:>10.1f} {row[2]:>8.1f} {size:>10.2f} {requests:>9} "
                  f"{per_k:>10.4f} {rto_ms:>11.2f} {slo_ms:>11.2f}", flush=True)
            if args.trace:
                snapshot = print_growth(snapshot)
    finally:
        session.stop()
        if supervisor is not None:
            stop_lab(lab_dir)
            supervisor.wait(timeout=30)
    if len(rows) >= 3:
        second, last = rows[1], rows[-1]
        for label, index in (("harness RSS", 0), ("Locust master RSS", 1), ("lab supervisor RSS", 2),
                             ("RTO poll", 3), ("SLO poll", 4)):
            change = (last[index] - second[index]) / second[index] * 100 if second[index] else 0.0
            verdict = "flat" if abs(change) <= 10 else "GROWS" if change > 0 else "shrinks"
            print(f"{label}: minute 2 {second[index]:.2f}, last {last[index]:.2f} ({change:+.1f} %, {verdict})")
        size = folder_mib(run.path)
        print(f"run folder: {size:.1f} MiB after {len(rows)} min; 2 hours at this rate: "
              f"{size / len(rows) * 120:.0f} MiB")
    if args.home is None and not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
