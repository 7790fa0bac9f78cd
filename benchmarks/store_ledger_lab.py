"""The store ledgers' effect on the load they measure, on the lab (issue 15: "the ledger must not change the load it
measures by more than 3 %").

Not a test: run ``.venv/bin/python benchmarks/store_ledger_lab.py [--users 20] [--window 30] [--repeats 4]``. It
starts a private lab (its own ``$AFTERSHOCK_HOME`` in a temporary folder, removed at the end), starts the load as
``aftershock run`` does (the built-in journeys, paced, with the timeline and the fresh-connection probe; the cart
lives in the DynamoDB stand-in, the assets in the S3 stand-in), and alternates windows without and with both store
ledgers writing at ``cross-region-connectivity``'s rate (``--rate``, 10 writes/s per store, replica watch on), the
order flipping every repeat. Per window, from the run's timeline (the first 2 s of a window left out: ledgers
starting or stopping): the shop's requests/s, failures, p50 and p95 latency, for all shop requests and for the cart's
requests (the ones that share the stand-in with the ledgers). The change is the median of the paired changes.

``benchmarks/store_ledger.py`` measures the worst case beside this one: a closed loop saturating the stand-in server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aftershock.core.runfolder import RunFolder  # noqa: E402
from aftershock.core.target import Target  # noqa: E402
from aftershock.core.timeline.store import read_timeline  # noqa: E402
from aftershock.core.timeline.windows import Window  # noqa: E402
from aftershock.planning import resolve_plan  # noqa: E402
from aftershock.probes.ledger.store_writer import StoreLedgerWriter  # noqa: E402
from aftershock.probes.ledger.stores import StoreAccess, client_factory  # noqa: E402
from aftershock.session import RunSession  # noqa: E402

SETTLE_S = 2.0
PROBE_PREFIX = "fresh:"


@dataclass(frozen=True)
class Figures:
    rps: float
    fail: int
    p50: float
    p95: float
    cart_rps: float
    cart_p95: float


def figures(run_dir: Path, start: float, end: float) -> Figures:
    """The shop's traffic that started in ``[start + SETTLE_S, end)`` (epoch seconds)."""
    timeline = read_timeline(run_dir)
    low, high = int((start + SETTLE_S) * 1000), int(end * 1000)
    shop = Window(low, high - low)
    cart = Window(low, high - low)
    for bucket in timeline.buckets:
        if low <= bucket.start_ms and bucket.start_ms + timeline.bucket_ms <= high \
                and not bucket.name.startswith(PROBE_PREFIX):
            shop = shop.add(bucket)
            if "/api/cart" in bucket.name:
                cart = cart.add(bucket)
    return Figures(shop.rps, shop.fail, shop.percentile(0.5) or 0.0, shop.percentile(0.95) or 0.0, cart.rps,
                   cart.percentile(0.95) or 0.0)


def ledgers(target: Target, run_dir: Path, run_id: str, rate: float) -> list[StoreLedgerWriter]:
    """Both store ledgers, as the experiments run them: primary region written, the secondary watched."""
    regions = [r.name for r in target.regions]
    return [StoreLedgerWriter(StoreAccess(target, store, client_factory(target)), run_dir, run_id=run_id,
                              primary=regions[0], replica=regions[1], rate_per_s=rate) for store in ("dynamodb", "s3")]


def window(session_dir: Path, target: Target, seconds: float, rate: float, with_ledgers: bool,
           tag: str) -> tuple[Figures, float]:
    """One window; the figures and the CPU seconds this process spent (the ledgers' threads when on)."""
    writers = ledgers(target, session_dir, tag, rate) if with_ledgers else []
    for writer in writers:
        writer.start()
    cpu, start = time.process_time(), time.time()
    time.sleep(seconds)
    end, cpu = time.time(), time.process_time() - cpu
    for writer in writers:
        writer.stop()
    time.sleep(1.0)  # the timeline is flushed every 0.5 s
    return figures(session_dir, start, end), cpu


def change(a: float, b: float) -> float:
    return (b - a) / a * 100 if a else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per window")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--rate", type=float, default=10.0, help="writes/s per store ledger")
    args = parser.parse_args()
    from aftershock.cli.lab import start_lab, stop_lab

    home = Path(tempfile.mkdtemp(prefix="aftershock-ledger-bench-"))
    os.environ["AFTERSHOCK_HOME"] = str(home)
    lab_dir = home / "lab"
    supervisor = start_lab(lab_dir, detach=True)
    run = RunFolder.create(home / "runs", "ledger-bench")
    seconds = 20 + args.repeats * 2 * (args.window + 4)
    plan = resolve_plan({}, experiment="ledger-bench", target_ref="lab",
                        load={"users": args.users, "load_duration_s": seconds + 60, "ledger": False},
                        started_at=time.time())
    from aftershock.core.plan import write_plan

    write_plan(run, plan)
    session = RunSession.begin(run, plan)
    pairs: list[tuple[Figures, Figures, float]] = []
    try:
        time.sleep(20)  # warm-up: users spawned, pools and caches warm
        for i in range(args.repeats):
            order = (False, True) if i % 2 == 0 else (True, False)
            got = {on: window(run.path, plan.snapshot, args.window, args.rate, on, f"bench-{i}") for on in order}
            pairs.append((got[False][0], got[True][0], got[True][1]))
            print(f"repeat {i + 1}: without {got[False][0]}\n          with    {got[True][0]}", flush=True)
    finally:
        session.stop()
        stop_lab(lab_dir)
        supervisor.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    report(pairs, args)
    return 0


def report(pairs: list[tuple[Figures, Figures, float]], args: argparse.Namespace) -> None:
    def paired(field: str) -> str:
        changes = [change(getattr(a, field), getattr(b, field)) for a, b, _ in pairs]
        return f"{statistics.median(changes):+.1f} % ({', '.join(f'{c:+.1f}' for c in changes)})"

    base = statistics.median(a.rps for a, _, _ in pairs)
    print(f"lab load: {args.users} users (journeys, paced), {base:.0f} shop requests/s; store ledgers: dynamodb + s3 "
          f"at {args.rate:g} writes/s each, replica watch on; {args.repeats} pairs of {args.window:g} s windows")
    print(f"  ledgers' CPU in the harness: {statistics.median(c for _, _, c in pairs) / args.window * 100:.1f} % "
          "of one core")
    print(f"  shop requests/s with vs without: {paired('rps')}  (goal: within 3 %)")
    print(f"  shop p50: {paired('p50')}; p95: {paired('p95')} (the timeline's latency bins are 12 % wide: +12 % is "
          "one bin)")
    print(f"  cart p95 (the cart shares the stand-in with the ledgers): {paired('cart_p95')}; cart requests/s "
          f"{paired('cart_rps')} (a random ~25 % of the tasks: +-7 % noise per window)")
    print(f"  failures without / with: {sum(a.fail for a, _, _ in pairs)} / {sum(b.fail for _, b, _ in pairs)}")


if __name__ == "__main__":
    raise SystemExit(main())
