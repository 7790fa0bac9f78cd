"""How much load one core of Locust makes with the shop journeys, and what the timeline costs.

Not a test: run ``.venv/bin/python benchmarks/load_throughput.py [--seconds 6] [--users 50]``. It starts one
uvicorn + starlette "hello" server on 127.0.0.1 (answers every shop route with a small valid JSON body),
pinned to the last core, and prints, against that same endpoint:

1. wrk req/s on GET /health (skipped with a note when ``wrk`` is not installed: ``apt-get install -y wrk``);
2. journeys req/s of one Locust process pinned to core 0 (closed loop, ``--task-rate 0``), and its CPU time
   per request (start-up included), with and without the timeline (plugin overhead, goal <= 3 %; on a
   shared machine this A/B is noisier than the overhead itself);
3. a bare ``FastHttpUser`` locustfile (one GET, no checks, no timeline, no probe) on the same core, and the
   journeys + timeline as a share of it (issue 13's goal: >= 0.9);
4. the timeline recorder's own cost per request (a micro-benchmark of the ``events.request`` listener);
5. req/s with a master + 1 worker vs a master + 2 workers (not pinned).

The machine is shared and small: figures are noisy (+-15-25 %); each Locust figure is the median of
``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def locust_once(url: str, seconds: int, users: int, core: int, timeline: bool | None) -> tuple[float, float]:
    """(req/s, CPU us per request) of one pinned Locust process: the journeys with or without the timeline, or
    (``timeline`` None) the bare locustfile."""
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--headless", "-H", url, "-u", str(users), "-r", str(users * 10), "-t", f"{seconds}s",
                  "--exit-code-on-error", "0", "--only-summary", "--json-file", f"{tmp}/stats", "--stop-timeout", "0"]
        if timeline is None:
            (Path(tmp) / "bare.py").write_text(BARE_LOCUSTFILE)
            argv = [sys.executable, "-m", "locust", "-f", f"{tmp}/bare.py", *common]
        else:
            argv = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "locustfile.py"), *common,
                    "--task-rate", "0", "--fresh-rate", "20", "--timeline-dir", tmp if timeline else ""]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin(core), check=True
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stats = json.loads(Path(f"{tmp}/stats.json").read_text())
        requests = sum(e["num_requests"] for e in stats)
        if timeline:
            recorded = read_timeline(Path(tmp)).total
            assert recorded == requests, f"timeline {recorded} != locust {requests}"
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return requests / seconds, cpu / max(requests, 1) * 1e6


def distributed(url: str, seconds: int, users: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        config = LoadConfig(url=url, out_dir=Path(tmp), users=users, duration_s=seconds, workers=workers, task_rate=0.0)
        result = run_load(config)
        assert result.requests is not None
        return result.requests / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
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
            print(f"wrk -t1 -c50 GET /health:                  {rate:10.0f} req/s")
        runs: dict[bool | None, list[tuple[float, float]]] = {True: [], False: [], None: []}
        locust_once(url, 2, args.users, gen_core, False)  # warm-up (imports, page cache), discarded
        for repeat in range(args.repeats):
            order: tuple[bool | None, ...] = (False, True, None) if repeat % 2 == 0 else (None, True, False)
            for timeline in order:  # ABBA: drift hits all three
                runs[timeline].append(locust_once(url, args.seconds, args.users, gen_core, timeline))
        off_rps = statistics.median(r for r, _ in runs[False])
        on_rps = statistics.median(r for r, _ in runs[True])
        off_cpu = statistics.median(c for _, c in runs[False])
        on_cpu = statistics.median(c for _, c in runs[True])
        print(f"journeys, 1 Locust process, timeline off: {off_rps:10.0f} req/s  {off_cpu:6.1f} us CPU/request")
        print(f"journeys, 1 Locust process, timeline on:  {on_rps:10.0f} req/s  {on_cpu:6.1f} us CPU/request")
        if rate:
            print(f"  journeys per core vs wrk:                {on_rps / rate:10.1%}")
        print(
            f"  timeline overhead: throughput {1 - on_rps / off_rps:+.1%}, CPU per request {on_cpu / off_cpu - 1:+.1%}"
        )
        bare_rps = statistics.median(r for r, _ in runs[None])
        bare_cpu = statistics.median(c for _, c in runs[None])
        print(f"bare FastHttpUser (1 GET, no checks):      {bare_rps:10.0f} req/s  {bare_cpu:6.1f} us CPU/request")
        print(f"  journeys + timeline vs bare:             {on_rps / bare_rps:10.2f}  (goal >= 0.90)")
        micro = subprocess.run([sys.executable, "-c", MICRO_CODE], cwd=REPO, capture_output=True, text=True, check=True)
        per_request = float(micro.stdout.strip().splitlines()[-1])
        print(
            f"  timeline recorder alone: {per_request:.2f} us/request = {per_request / off_cpu:.1%} of a request's CPU"
        )
        one = statistics.median(distributed(url, args.seconds, args.users, 1) for _ in range(args.repeats))
        two = statistics.median(distributed(url, args.seconds, args.users, 2) for _ in range(args.repeats))
        print(f"master + 1 worker (not pinned):            {one:10.0f} req/s")
        print(f"master + 2 workers (not pinned):           {two:10.0f} req/s  ({two / one:.2f}x)")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
