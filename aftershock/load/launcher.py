"""Run the shop load (Locust) as a subprocess and hand back where its timeline is.

Locust is never imported here: ``import locust`` monkey-patches the whole process with gevent, which breaks
the chaos side (see docs/knowledge). :func:`run_load` starts::

    python -m locust -f loadtests/locustfile.py --headless -H URL -u N -r R -t 60s --shape steady \
        --timeline-dir RUN --exit-code-on-error 0 --only-summary --json-file RUN/locust-stats

either as one process (``workers=0``) or as ``--master --expect-workers N`` plus N ``--worker`` processes
started here. Workers on other hosts can join the same run: pass ``remote_workers=K`` (and
``master_bind_host="0.0.0.0"``) and start on each of them::

    python -m locust -f loadtests/locustfile.py --worker --master-host <this host> --master-port <port>

(their clocks must be synchronised: the timeline uses each process's epoch time).

Ctrl-C/SIGTERM during :func:`run_load` is forwarded to Locust as one SIGINT (Locust then flushes its
timeline and stats); a second one kills the processes. Either way the timeline stays readable.

The run itself is described by :mod:`aftershock.load.config`.

Example::

    config = LoadConfig(url="http://127.0.0.1:8080", users=20, duration_s=30, out_dir=Path("runs/x"))
    check_reachable(config.url)
    result = run_load(config)
    timeline = read_timeline(result.timeline_path)
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import IO
from urllib.parse import urlsplit

import httpx

from aftershock.core.errors import UsageError
from aftershock.core.resolver import StubResolver, is_address
from aftershock.load.config import LOG_FILE, STATS_BASENAME, LoadConfig, LoadResult, locust_argv, worker_argv


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host if host not in ("*", "0.0.0.0", "") else "127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_reachable(url: str, *, timeout_s: float = 2.0, flag: str = "--url", resolver: str | None = None) -> None:
    """Fail fast with :class:`UsageError` when nothing answers HTTP at ``url`` (TCP connect, then one GET);
    ``resolver``: the DNS server the clients resolve the URL's name through (``HOST:PORT``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"{flag} {url!r} has a bad port: use a form like http://127.0.0.1:8080") from exc
    if resolver is not None and not is_address(host):
        try:
            address = StubResolver(resolver).lookup(host).addresses[0]
        except (OSError, IndexError) as exc:
            raise UsageError(f"{flag} {url}: {host} does not resolve through {resolver} ({exc}); start the "
                             "target or fix load.resolver") from exc
        url, host = url.replace(f"//{parts.netloc}", f"//{address}:{port}", 1), address
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UsageError(
            f"{flag} {url}: nothing answers at {host}:{port} ({reason.lower()}); start the target or fix {flag}"
        ) from exc
    try:
        httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise UsageError(
            f"{flag} {url}: {host}:{port} accepts connections but does not answer HTTP "
            f"({exc.__class__.__name__}); check the URL's scheme and port"
        ) from exc


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """SIGTERM the child (Locust then flushes and quits) when the process that started it dies."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _start(argv: list[str], log: IO[bytes], cwd: Path) -> subprocess.Popen[bytes]:
    # Own session: a terminal Ctrl-C reaches only us; we forward exactly one SIGINT in the right order.
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


@contextlib.contextmanager
def _forward_signals(on_signal: Callable[[int], None]) -> Iterator[None]:
    """Route SIGINT/SIGTERM to ``on_signal`` while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        on_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    try:
        return proc.wait(timeout=max(0.0, timeout_s))
    except subprocess.TimeoutExpired:
        return None


def _stop(procs: list[subprocess.Popen[bytes]], grace_s: float) -> None:
    """SIGINT, then SIGKILL after ``grace_s``; reaps every process."""
    for proc in procs:
        _signal(proc, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        if _wait(proc, deadline - time.monotonic()) is None:
            _signal(proc, signal.SIGKILL)
            proc.wait()


def _read_totals(path: Path) -> tuple[int | None, int | None]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(entries, list):
        return None, None
    return (
        sum(int(e.get("num_requests", 0)) for e in entries),
        sum(int(e.get("num_failures", 0)) for e in entries),
    )


def _start_all(
    config: LoadConfig,
    argv: list[str],
    w_argv: list[str] | None,
    procs: list[subprocess.Popen[bytes]],
    logs: list[IO[bytes]],
) -> None:
    """Start the single process/master, then the local workers, appending to ``procs`` and ``logs`` as it goes
    (so the caller cleans up whatever started even when a later start fails)."""
    cwd = config.cwd
    logs.append(open(config.out_dir / LOG_FILE, "ab"))  # noqa: SIM115 - the caller closes it
    procs.append(_start(argv, logs[-1], cwd))
    for index in range(config.workers if w_argv else 0):
        logs.append(open(config.out_dir / f"locust-worker-{index + 1}.log", "ab"))  # noqa: SIM115
        procs.append(_start(list(w_argv or ()), logs[-1], cwd))


def run_load(config: LoadConfig, *, on_started: Callable[[LoadResult], None] | None = None) -> LoadResult:
    """Run Locust to completion (or until Ctrl-C/SIGTERM) and describe what it left in ``config.out_dir``.

    ``on_started`` is called once every process is started (``exit_code`` -1 in that preview), e.g. to
    tell remote workers the master's port.
    """
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    port = (config.master_port or _free_port(config.master_bind_host)) if config.distributed else None
    argv = locust_argv(config, master_port=port)
    w_argv = worker_argv(config, port) if config.distributed and port is not None else None
    started_ms = time.time() * 1000.0
    interrupted = False
    signals = 0
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []

    def on_signal(_signum: int) -> None:
        nonlocal interrupted, signals
        interrupted = True
        signals += 1
        if signals == 1 and procs:
            _signal(procs[0], signal.SIGINT)  # the master/single process: it stops its workers itself
        else:
            for proc in procs:
                _signal(proc, signal.SIGKILL)

    with _forward_signals(on_signal):
        try:
            _start_all(config, argv, w_argv, procs, logs)
            if on_started is not None:
                on_started(_result(config, argv, w_argv, port, -1, started_ms, interrupted, ()))
            deadline = time.monotonic() + config.duration_s + config.startup_grace_s
            master = procs[0]
            while master.poll() is None:
                if time.monotonic() > deadline and not interrupted:
                    interrupted = True
                    _stop([master], 15.0)
                    break
                time.sleep(0.1)
            _stop(procs[1:], 10.0)  # workers quit when the master does; this only catches stragglers
        finally:
            for proc in procs:
                if proc.poll() is None:
                    _signal(proc, signal.SIGKILL)
                    proc.wait()
            for log in logs:
                log.close()
    code = procs[0].returncode if procs else -1
    return _result(config, argv, w_argv, port, code, started_ms, interrupted, tuple(p.returncode for p in procs[1:]))


def _result(
    config: LoadConfig,
    argv: list[str],
    w_argv: list[str] | None,
    port: int | None,
    code: int,
    started_ms: float,
    interrupted: bool,
    worker_codes: tuple[int, ...],
) -> LoadResult:
    stats = config.out_dir / f"{STATS_BASENAME}.json"
    requests, failures = _read_totals(stats) if code != -1 else (None, None)
    return LoadResult(
        out_dir=config.out_dir,
        timeline_path=config.timeline_path,
        log_path=config.out_dir / LOG_FILE,
        stats_path=stats if stats.exists() else None,
        argv=tuple(argv),
        worker_argv=tuple(w_argv) if w_argv else None,
        master_port=port,
        exit_code=code,
        started_ms=started_ms,
        ended_ms=time.time() * 1000.0,
        interrupted=interrupted,
        requests=requests,
        failures=failures,
        worker_exit_codes=worker_codes,
    )


__all__ = [
    "check_reachable",
    "run_load",
]
