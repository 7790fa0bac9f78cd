"""How much load one core of Locust makes with the shop journeys, and what the harness costs on top of it.

Not a test: run ``.venv/bin/python benchmarks/load_throughput.py [--seconds 6] [--users 50] [--repeats 3]``. It
starts one uvicorn + starlette "hello" server on 127.0.0.1 (answers every shop route with a small valid JSON
body), pinned to the last core, and prints, against that same endpoint:

1. wrk req/s on GET /health (skipped with a note when ``wrk`` is not installed: ``apt-get install -y wrk``);
2. four locustfiles, ``--repeats`` rounds, each alone in one Locust process pinned to core 0 (closed loop;
   rotating order): req/s and CPU time per request (from the first spawned user to exit, so imports and
   start-up are left out); then pairs of them at once on core 0 for the ratios:

   * the journeys + timeline + fresh-connection probe (``--task-rate 0 --fresh-rate 20``; ``--journeys``
     measures another journeys locustfile, e.g. an older copy, under the same conditions);
   * the same without the timeline (the timeline's overhead; on a shared machine this A/B is noisier than the
     overhead itself);
   * ``benchmarks/bare_shop_mix.py``: FastHttpUsers issuing exactly the journeys' requests (same paths,
     methods, bodies, weights) without checks, timeline or probe;
   * the same bare mix with Python's collector tuned as the harness tunes it (``aftershock.loadtests.collector``):
     journeys / this is what the checks, timeline and probe cost without the collector's credit;
   * a bare ``FastHttpUser`` making one GET, no checks.

   The journeys' req/s and CPU per request count the shop's requests only: the probe's ~20 req/s are left out
   of the count, its CPU is not. A ratio is the inverse ratio of CPU per request (what the req/s ratio is on a
   core of one's own): *side by side*, of two processes sharing core 0 at once, so whatever else runs on the
   machine hits both alike (median and range over rounds; their req/s ratio is not used: the scheduler does not
   split the core evenly between them; and each gets half a core, so costs fixed per second - the probe's 20
   connections/s, the timeline's flushes and loop-lag samples - weigh twice what they weigh on a core of one's
   own: side by side understates the journeys a little), and *by lowest CPU*, of the lowest CPU per request of
   each alone (other work on the core only ever adds to it; few samples: the noisier of the two).
   *harness overhead* = journeys / bare same mix (issue 13's goal: >= 0.9), *request mix* = bare same mix /
   bare one GET, and journeys / bare one GET;
3. the timeline recorder's own cost per request (a micro-benchmark of the ``events.request`` listener);
4. req/s with a master + 1 worker vs a master + 2 workers (not pinned; ``--skip-distributed`` leaves it out).

The machine is shared and small: figures are noisy (+-15-25 %); each Locust figure is the median of
``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aftershock.core.timeline.store import read_timeline  # noqa: E402
from aftershock.load.config import LoadConfig  # noqa: E402
from aftershock.load.launcher import run_load  # noqa: E402

SERVER_CODE = r"""
import re, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

PRODUCT = re.compile(r"/api/products/(\d+)$")
ITEM = {"id": 1, "sku": "S1", "name": "p", "category": "books", "price_cents": 100}

async def anything(request):
    path = request.url.path
    if path == "/health":
        return JSONResponse({"status": "ok"})
    match = PRODUCT.search(path)
    if match:
        return JSONResponse({**ITEM, "id": int(match.group(1)), "description": "d", "stock": 1})
    body = {"items": [ITEM], "total": 1, "page": 1, "size": 1, "query": "q", "token": "t", "user_id": 1,
            "order_id": 1, "total_cents": 100}
    return JSONResponse(body, status_code=201 if path == "/api/checkout" else 200)

app = Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST", "DELETE"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

MICRO_CODE = r"""
import time
from aftershock.loadtests.timeline_plugin import TimelineRecorder
rec = TimelineRecorder(100)
names = ["GET /api/products/{id}", "GET /api/products", "GET /api/search", "fresh:GET /health"]
n = 300_000
now = time.time()
err = ConnectionRefusedError(111, "Connection refused")
t0 = time.perf_counter()
for i in range(n):
    rec.on_request(request_type="GET", name=names[i & 3], response_time=3.7, response_length=120,
                   exception=None if i % 50 else err, start_time=now + i * 0.00001, context={})
    if i % 5000 == 0:
        rec.drain()
t1 = time.perf_counter()
print((t1 - t0) / n * 1e6)
"""


PROBE_PREFIX = "fresh:"  # the fresh-connection probe's requests: its cost is the harness's, its count is not

BARE_LOCUSTFILE = r"""
from locust import FastHttpUser, task


class Bare(FastHttpUser):
    @task
    def product(self):
        self.client.get("/api/products/1")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin(core: int) -> Callable[[], None] | None:
    cores = os.sched_getaffinity(0)
    if core not in cores or len(cores) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {core})


def start_server(port: int, core: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=pin(core),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the hello server did not start")


def wrk(url: str, seconds: int, core: int) -> float | None:
    if shutil.which("wrk") is None:
        print("wrk: not installed, skipped (apt-get install -y wrk)")
        return None
    done = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{seconds}s", f"{url}/health"],
        capture_output=True,
        text=True,
        preexec_fn=pin(core),
        check=True,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(match.group(1)) if match else None


@dataclass(frozen=True)
class Variant:
    """One locustfile measured on the generator core; ``journeys`` count only the shop's own requests."""

    label: str
    locustfile: Path
    extra: tuple[str, ...] = ()
    timeline: bool = False


@dataclass(frozen=True)
class Sample:
    rps: float
    cpu_us: float  # CPU per request from the first spawn to exit (imports and start-up left out)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _RampWatch(threading.Thread):
    """Notes the child's CPU seconds when Locust starts its users, then drains its log so it never blocks."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.cpu_s = 0.0
        self.start()

    def run(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if not self.cpu_s and "Ramping to" in line:
                self.cpu_s = _cpu_s(self.proc.pid)


def _served(stats_file: Path) -> tuple[int, int, float]:
    """(shop requests, all requests, seconds from the first to the last request) of Locust's ``--json-file``."""
    stats = json.loads(stats_file.read_text())
    shop = sum(e["num_requests"] for e in stats if not e["name"].startswith(PROBE_PREFIX))
    span = max(e["last_request_timestamp"] or 0 for e in stats) - min(e["start_time"] for e in stats)
    return shop, sum(e["num_requests"] for e in stats), span


def locust_runs(url: str, seconds: int, users: int, core: int, *variants: Variant) -> list[Sample]:
    """req/s and CPU us per request of Locust processes pinned to ``core``, one per variant, all at once (two at
    once live through the same noise of the shared machine; their CPU per request is their cost)."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for index, variant in enumerate(variants):
            out = Path(tmp) / str(index)
            out.mkdir()
            timeline = ("--timeline-dir", str(out)) if variant.timeline else ()
            argv = [sys.executable, "-m", "locust", "-f", str(variant.locustfile), "--headless", "-H", url,
                    "-u", str(users), "-r", str(users * 10), "-t", f"{seconds}s", "--exit-code-on-error", "0",
                    "--only-summary", "--json-file", f"{out}/stats", "--stop-timeout", "0", *variant.extra, *timeline]
            proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=pin(core))
            procs.append((variant, out, proc, _RampWatch(proc)))
        return [_finished(*entry) for entry in procs]


def _finished(variant: Variant, out: Path, proc: subprocess.Popen[str], watch: _RampWatch) -> Sample:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    watch.join()
    if proc.returncode != 0:
        raise SystemExit(f"{variant.label}: locust exited {proc.returncode}")
    shop, total, span = _served(out / "stats.json")
    if variant.timeline:
        recorded = read_timeline(out).total
        assert recorded == total, f"timeline {recorded} != locust {total}"
    cpu = usage.ru_utime + usage.ru_stime - watch.cpu_s
    return Sample(shop / span, cpu / max(shop, 1) * 1e6)


def distributed(url: str, seconds: int, users: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        config = LoadConfig(url=url, out_dir=Path(tmp), users=users, duration_s=seconds, workers=workers, task_rate=0.0)
        result = run_load(config)
        assert result.requests is not None
        return result.requests / seconds


TUNED_BARE_MIX = r"""
from locust import events

from aftershock.loadtests.collector import tune_collector
from benchmarks.bare_shop_mix import BareBrowser, BareShopper

events.init.add_listener(lambda **_kw: tune_collector())
"""


def variants(journeys: Path, tmp: Path) -> dict[str, Variant]:
    bare_get = tmp / "bare_get.py"
    bare_get.write_text(BARE_LOCUSTFILE)
    tuned = tmp / "bare_mix_tuned.py"
    tuned.write_text(TUNED_BARE_MIX)
    shop = ("--task-rate", "0", "--fresh-rate", "20")
    return {
        "journeys": Variant("journeys + timeline + probe", journeys, shop, timeline=True),
        "no-timeline": Variant("journeys + probe, timeline off", journeys, shop),
        "bare-mix": Variant("bare, same mix (no checks/timeline/probe)", REPO / "benchmarks" / "bare_shop_mix.py"),
        "bare-mix-tuned": Variant("bare, same mix, collector tuned as ours", tuned),
        "bare-get": Variant("bare, one GET (no checks)", bare_get),
    }


PAIRS = (("journeys", "bare-mix"), ("journeys", "bare-mix-tuned"), ("bare-mix", "bare-get"), ("journeys", "bare-get"),
         ("journeys", "no-timeline"))
Ratios = dict[tuple[str, str], list[float]]


def measure(url: str, args: argparse.Namespace, core: int,
            todo: dict[str, Variant]) -> tuple[dict[str, list[Sample]], Ratios]:
    """``args.repeats`` rounds: every variant alone (req/s of one core; the order rotates and flips each round
    so drift hits all), then each pair of :data:`PAIRS` at once on the same core: the inverse ratio of their CPU
    per request, measured over the same seconds (what their req/s ratio is on a core of their own)."""
    runs: dict[str, list[Sample]] = {key: [] for key in todo}
    pairs: Ratios = {pair: [] for pair in PAIRS}
    locust_runs(url, 2, args.users, core, todo["journeys"])  # warm-up (imports, page cache), discarded
    keys = list(todo)
    for repeat in range(args.repeats):
        order = keys[repeat % len(keys):] + keys[: repeat % len(keys)]
        for key in order if repeat % 2 == 0 else reversed(order):
            runs[key] += locust_runs(url, args.seconds, args.users, core, todo[key])
        for top, bottom in PAIRS:
            a, b = locust_runs(url, args.seconds, args.users, core, todo[top], todo[bottom])
            pairs[top, bottom].append(b.cpu_us / a.cpu_us)
    return runs, pairs


def _ratio(runs: dict[str, list[Sample]], pairs: Ratios, top: str, bottom: str) -> str:
    """The inverse CPU-per-request ratio of the two running at once on one core (median and range over rounds);
    and the same from the lowest CPU per request of each alone (other work on the core only ever adds to it)."""
    both = sorted(pairs[top, bottom])
    cpu = min(s.cpu_us for s in runs[bottom]) / min(s.cpu_us for s in runs[top])
    return f"{statistics.median(both):5.2f} side by side ({both[0]:.2f}-{both[-1]:.2f}), {cpu:5.2f} by lowest CPU"


def report(runs: dict[str, list[Sample]], pairs: Ratios, todo: dict[str, Variant], wrk_rate: float | None) -> float:
    """Prints the medians and ratios; returns the median CPU us per request without the timeline."""
    for key, variant in todo.items():
        rps = statistics.median(s.rps for s in runs[key])
        cpu = sorted(s.cpu_us for s in runs[key])
        print(f"{variant.label + ':':45s} {rps:7.0f} req/s  CPU/request {statistics.median(cpu):5.1f} us "
              f"(lowest {cpu[0]:5.1f})")
    on = statistics.median(s.rps for s in runs["journeys"])
    if wrk_rate:
        print(f"  journeys per core vs wrk:                   {on / wrk_rate:8.1%}")
    print(f"  timeline on / off:                          {_ratio(runs, pairs, 'journeys', 'no-timeline')}")
    print(f"  harness overhead, journeys / bare same mix: {_ratio(runs, pairs, 'journeys', 'bare-mix')}; "
          "goal >= 0.90")
    print(f"  journeys / bare same mix, collector tuned alike: {_ratio(runs, pairs, 'journeys', 'bare-mix-tuned')} "
          "(the checks, timeline and probe alone)")
    print(f"  request mix, bare same mix / bare one GET:  {_ratio(runs, pairs, 'bare-mix', 'bare-get')}")
    print(f"  journeys / bare one GET:                    {_ratio(runs, pairs, 'journeys', 'bare-get')}")
    return statistics.median(s.cpu_us for s in runs["no-timeline"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--journeys", type=Path, default=REPO / "loadtests" / "locustfile.py",
                        help="the journeys' locustfile (default: the built-in one; it must take aftershock's options)")
    parser.add_argument("--skip-distributed", action="store_true", help="leave out the master + workers figures")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    gen_core, server_core = cores[0], cores[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, server_core)
    print(f"hello server {url} on core {server_core}; load generator on core {gen_core}; {len(cores)} cores")
    try:
        rate = wrk(url, args.seconds, gen_core)
        if rate is not None:
            print(f"wrk -t1 -c50 GET /health:                     {rate:8.0f} req/s")
        with tempfile.TemporaryDirectory() as tmp:
            todo = variants(args.journeys.resolve(), Path(tmp))
            runs, pairs = measure(url, args, gen_core, todo)
            off_cpu = report(runs, pairs, todo, rate)
        micro = subprocess.run([sys.executable, "-c", MICRO_CODE], cwd=REPO, capture_output=True, text=True, check=True)
        per_request = float(micro.stdout.strip().splitlines()[-1])
        share = per_request / off_cpu
        print(f"  timeline recorder alone: {per_request:.2f} us/request = {share:.1%} of a request's CPU")
        if not args.skip_distributed:
            one = statistics.median(distributed(url, args.seconds, args.users, 1) for _ in range(args.repeats))
            two = statistics.median(distributed(url, args.seconds, args.users, 2) for _ in range(args.repeats))
            print(f"master + 1 worker (not pinned):               {one:8.0f} req/s")
            print(f"master + 2 workers (not pinned):              {two:8.0f} req/s  ({two / one:.2f}x)")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
