"""The store ledgers' write rate per store and their cost on the load they measure (goal: < 3 % change).

    .venv/bin/python benchmarks/store_ledger.py [--seconds 5] [--rate 10] [--repeats 3]

Starts the AWS stand-ins alone (``python -m aftershock.lab.standins``), drives a closed-loop load of cart
writes and reads (DynamoDB PutItem + GetItem, and S3 PutObject) from 4 threads in a process of its own, and
prints its operations/s without the ledgers and with both store ledgers writing (``--rate`` each) and watching
the secondary, plus the CPU the ledgers' own process spent. Without and with alternate (the order flips every
repeat) and the change is the median of the paired changes: the machine is shared, so a neighbour's burst hits one
pair, not every "with" run.

Fairness: the load saturates the primary's stand-in server (one moto process, one GIL) and the ledgers write to
that same server, as on the lab, where the shop's cart and assets and the ledgers share the region's stand-in: that
contention is real there, so it is counted. On AWS the table and bucket scale and the ledger costs only its own
client CPU (the "own CPU" line). A closed loop is the worst case: every CPU second the ledgers take on the 2 cores
is a second the load does not get.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOAD = r"""
import sys, threading, time, boto3
from botocore.config import Config
endpoint, seconds = sys.argv[1], float(sys.argv[2])
cfg = Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1})
s = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s")
count = [0] * 4
def run(i):
    ddb = s.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint, config=cfg)
    s3 = s.client("s3", region_name="us-east-1", endpoint_url=endpoint, config=cfg)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        key = {"pk": {"S": f"cart#{i}#{n % 50}"}}
        ddb.put_item(TableName="shop-carts", Item={**key, "n": {"N": str(n)}})
        ddb.get_item(TableName="shop-carts", Key=key)
        s3.put_object(Bucket="shop-assets-us-east-1", Key=f"img/{i}/{n % 50}", Body=b"x" * 512)
        n += 1
        count[i] += 3
threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
print(sum(count) / seconds)
"""


class Cpu:
    """CPU seconds spent by the load's processes and by the stand-ins (supervisor, servers) during the loads:
    unlike ops/s, barely moved by the neighbours sharing the machine (Linux: /proc)."""

    def __init__(self, standins_pid: int) -> None:
        self.pid = standins_pid
        self.load_s = self.standins_s = 0.0

    def standins(self) -> float:
        pids, total = [self.pid], 0.0
        while pids:
            pid = pids.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            # every thread's children: the servers are spawned from a helper thread of the supervisor (counting
            # only the main thread's missed them, and with them most of the stand-ins' CPU)
            with contextlib.suppress(OSError):  # a thread or the process ended meanwhile
                pids += [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                         for c in (task / "children").read_text().split()]
        return total

    def load(self, endpoint: str, seconds: float) -> float:
        before_children, before_standins = resource.getrusage(resource.RUSAGE_CHILDREN), self.standins()
        out = subprocess.run([sys.executable, "-c", _LOAD, endpoint, str(seconds)], capture_output=True, text=True,
                             check=True, timeout=seconds + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.load_s = after.ru_utime + after.ru_stime - before_children.ru_utime - before_children.ru_stime
        self.standins_s = self.standins() - before_standins
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--watch", type=float, default=0.0, help="replica watch interval (default: the writer's)")
    args = parser.parse_args()
    from aftershock.core.target import DataStores, EndpointGroup, FrontDoor, LabControl, Region, Target

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "aftershock.lab.standins", "--log-dir", tmp],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        info = json.loads(proc.stdout.readline())
        target = Target(name="bench", kind="lab", regions=(
            Region(name="us-east-1", role="primary", azs=("a",)),
            Region(name="us-west-2", role="secondary", azs=("b",))),
            front_door=FrontDoor(url="http://127.0.0.1:9", endpoint_groups=(
                EndpointGroup(region="us-east-1", traffic_dial=100, load_balancer="x"),)),
            data_stores=DataStores(table=info["table"], buckets=info["buckets"], endpoints=info["endpoints"]),
            lab=LabControl(control_url="http://127.0.0.1:9", home=tmp))
        east = info["endpoints"]["us-east-1"]
        cpu = Cpu(proc.pid)
        runs: list[tuple[Run, Run]] = []
        rates: dict[str, list[float]] = {"dynamodb": [], "s3": []}
        try:
            alone = _alone(cpu, target, tmp, args)
            for i in range(args.repeats):
                first = _with_ledgers(cpu, target, east, tmp, i, args, rates) if i % 2 else None
                plain = Run(cpu.load(east, args.seconds), cpu.load_s, cpu.standins_s, 0.0)
                runs.append((plain, first or _with_ledgers(cpu, target, east, tmp, i, args, rates)))
        finally:
            proc.stdin.close()
            proc.wait(timeout=30)
            proc.stdout.close()
    _print(runs, rates, args)
    _print_alone(alone, runs, args)


@dataclass(frozen=True)
class Run:
    ops: float  # the load's operations/s
    load_s: float  # CPU seconds of the load's process
    standins_s: float  # CPU seconds of the stand-ins (supervisor + servers)
    ledgers_s: float  # CPU seconds of the ledgers' threads (this process)


def _print(runs: list[tuple[Run, Run]], rates: dict[str, list[float]], args: argparse.Namespace) -> None:
    changes = [(w.ops - p.ops) / p.ops * 100 for p, w in runs]
    # the ledgers' CPU: their own threads, plus what the stand-ins spent beyond serving the load (scaled to the
    # load's rate in that run), as a share of the CPU the load costs the machine without ledgers
    shares = [(w.ledgers_s + w.standins_s - p.standins_s * w.ops / p.ops) / ((p.load_s + p.standins_s) * w.ops / p.ops)
              * 100 for p, w in runs]
    for store, values in rates.items():
        print(f"{store} ledger: {statistics.median(values):.1f} acknowledged writes/s (asked {args.rate:g}/s)")
    print(f"ledgers' own CPU (writers + replica watch, boto3): "
          f"{statistics.median(w.ledgers_s for _, w in runs) / args.seconds * 100:.1f} % of one core")
    print(f"ledgers' CPU cost (own + the stand-ins' work for them) vs the load's CPU: "
          f"{statistics.median(shares):.1f} % (per run: {', '.join(f'{c:.1f}' for c in shares)})")
    print(f"load without ledgers: {statistics.median(p.ops for p, _ in runs):.0f} ops/s; with both ledgers: "
          f"{statistics.median(w.ops for _, w in runs):.0f} ops/s; change {statistics.median(changes):+.1f} % "
          f"(median of {args.repeats} paired runs: {', '.join(f'{c:+.1f}' for c in changes)}; goal: within 3 %)")


def _writers(target: Any, tmp: str, run_id: str, args: argparse.Namespace) -> list[Any]:
    from aftershock.probes.ledger.store_writer import StoreLedgerWriter
    from aftershock.probes.ledger.stores import StoreAccess, client_factory

    return [StoreLedgerWriter(StoreAccess(target, store, client_factory(target)), Path(tmp), run_id=run_id,
                              primary="us-east-1", replica="us-west-2", rate_per_s=args.rate,
                              **({"watch_s": args.watch} if args.watch else {})) for store in ("dynamodb", "s3")]


def _alone(cpu: Cpu, target: Any, tmp: str, args: argparse.Namespace) -> tuple[float, float, float]:
    """The ledgers without the load: CPU seconds per second of their own threads and of the stand-ins beyond
    idle, and their acknowledged writes/s. CPU time barely moves with the neighbours, unlike ops/s."""
    before = cpu.standins()
    time.sleep(args.seconds)
    idle = cpu.standins() - before
    writers = _writers(target, tmp, "bench-alone", args)
    started = time.monotonic()
    for writer in writers:
        writer.start()
    own, before = time.process_time(), cpu.standins()
    time.sleep(args.seconds)
    own, standins = time.process_time() - own, cpu.standins() - before
    for writer in writers:
        writer.stop()
    acked = sum(writer.acknowledged for writer in writers) / (time.monotonic() - started)
    return own / args.seconds, (standins - idle) / args.seconds, acked


def _print_alone(alone: tuple[float, float, float], runs: list[tuple[Run, Run]], args: argparse.Namespace) -> None:
    own, standins, acked = alone
    load = statistics.median((p.load_s + p.standins_s) / args.seconds for p, _ in runs)
    print(f"ledgers alone (no load): {(own + standins) * 100:.1f} % of one core (own {own * 100:.1f} %, stand-ins "
          f"{standins * 100:.1f} %), {(own + standins) / acked * 1000:.1f} ms of CPU per acknowledged write; vs the "
          f"load's {load * 100:.0f} % of a core: {(own + standins) / load * 100:.1f} % (what a CPU-bound closed loop "
          "loses)")


def _with_ledgers(cpu: Cpu, target: Any, east: str, tmp: str, i: int, args: argparse.Namespace,
                  rates: dict[str, list[float]]) -> Run:
    writers = _writers(target, tmp, f"bench-{i}", args)
    started = time.monotonic()
    for writer in writers:
        writer.start()
    cpu_before = time.process_time()  # steady state: after the clients were made
    ops = cpu.load(east, args.seconds)
    ledgers_s = time.process_time() - cpu_before
    elapsed = time.monotonic() - started
    for writer in writers:
        writer.stop()
        rates[writer.access.store].append(writer.acknowledged / elapsed)
    return Run(ops, cpu.load_s, cpu.standins_s, ledgers_s)


if __name__ == "__main__":
    main()
