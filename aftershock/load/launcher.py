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
import math
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from aftershock.core.errors import HarnessError, UsageError
from aftershock.core.timeline.store import TIMELINE_FILE

SHAPES = ("steady", "step", "spike")
DEFAULT_LOCUSTFILE = Path(__file__).resolve().parent.parent / "loadtests" / "locustfile.py"
STATS_BASENAME = "locust-stats"  # Locust appends ".json"
LOG_FILE = "locust.log"

_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$")


def parse_duration(text: str, *, flag: str = "--duration") -> float:
    """Seconds of ``"90"``, ``"90s"``, ``"5m"``, ``"1h30m"``; :class:`UsageError` naming ``flag`` otherwise."""
    match = _DURATION.match(text or "")
    if not text or not text.strip() or match is None or not any(match.groups()):
        raise UsageError(f"{flag} {text!r} is not a duration: use seconds or a form like 90s, 5m, 1h30m")
    hours, minutes, seconds = match.groups()
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)
    if total < 1:
        raise UsageError(f"{flag} {text!r} is too short: use at least 1s")
    return total


def format_duration(seconds: float) -> str:
    """Locust's ``-t`` form (whole seconds, rounded up)."""
    return f"{math.ceil(seconds)}s"


@dataclass(frozen=True, kw_only=True)
class LoadConfig:
    """One load run, validated on creation (bad values raise :class:`UsageError` naming the CLI flag).

    Example::

        LoadConfig(url="http://127.0.0.1:8080", users=50, duration_s=60, shape="spike", workers=2,
                   out_dir=Path("runs/20250101T000000Z-load"))
    """

    url: str
    out_dir: Path
    users: int = 10
    spawn_rate: float | None = None
    """Users started per second (default: all at once)."""
    duration_s: float = 60.0
    shape: str = "steady"
    workers: int = 0
    """Local worker processes (0: a single Locust process)."""
    remote_workers: int = 0
    """Extra workers the master waits for, started elsewhere with ``--worker --master-host``."""
    master_bind_host: str = "127.0.0.1"
    master_port: int | None = None
    bucket_ms: int = 100
    connect_timeout_s: float = 2.0
    response_timeout_s: float = 5.0
    task_rate: float = 2.0
    """Tasks per second per browser/shopper user (0: as fast as possible)."""
    fresh_rate: float = 20.0
    """Requests per second of the fresh-connection user."""
    locustfile: Path = DEFAULT_LOCUSTFILE
    python: str = sys.executable
    extra_args: tuple[str, ...] = ()
    startup_grace_s: float = 60.0
    """Time allowed on top of the duration for start-up (workers joining) and shutdown."""

    def __post_init__(self) -> None:
        # absolute: Locust runs in the source tree, so a relative folder would land somewhere else
        object.__setattr__(self, "out_dir", Path(self.out_dir).absolute())
        url = urlsplit(self.url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise UsageError(f"--url {self.url!r} is not an http(s) URL: use a form like http://127.0.0.1:8080")
        if self.users < 1:
            raise UsageError(f"--users {self.users} must be at least 1: pass a positive number of users")
        if self.spawn_rate is not None and self.spawn_rate <= 0:
            raise UsageError(f"--rate {self.spawn_rate:g} must be positive: pass users started per second")
        if self.duration_s < 1:
            raise UsageError(f"--duration {self.duration_s:g}s is too short: use at least 1s")
        if self.shape not in SHAPES:
            raise UsageError(f"--shape {self.shape!r} is unknown: use one of {', '.join(SHAPES)}")
        if self.workers < 0:
            raise UsageError(f"--workers {self.workers} must be 0 (one process) or more")
        if self.remote_workers < 0:
            raise UsageError(f"--remote-workers {self.remote_workers} must be 0 or more")
        if self.bucket_ms < 1:
            raise UsageError(f"--bucket-ms {self.bucket_ms} must be at least 1")
        if self.connect_timeout_s <= 0 or self.response_timeout_s <= 0:
            raise UsageError("--connect-timeout and --response-timeout must be positive seconds")
        if not self.locustfile.exists():
            raise HarnessError(f"locustfile {self.locustfile} is missing: reinstall aftershock from its source tree")

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def timeline_path(self) -> Path:
        return self.out_dir / TIMELINE_FILE


@dataclass(frozen=True)
class LoadResult:
    """What a load run left behind. Times are epoch ms."""

    out_dir: Path
    timeline_path: Path
    log_path: Path
    stats_path: Path | None
    """Locust's own ``--json-file`` stats (None when Locust did not write them, e.g. killed)."""
    argv: tuple[str, ...]
    worker_argv: tuple[str, ...] | None
    master_port: int | None
    exit_code: int
    started_ms: float
    ended_ms: float
    interrupted: bool
    requests: int | None
    failures: int | None
    worker_exit_codes: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host if host not in ("*", "0.0.0.0", "") else "127.0.0.1", 0))
        return int(sock.getsockname()[1])


def locust_argv(config: LoadConfig, *, master_port: int | None = None) -> list[str]:
    """The argv of the single Locust process or of the master."""
    argv = [
        config.python,
        "-m",
        "locust",
        "-f",
        str(config.locustfile),
        "--headless",
        "-H",
        config.url,
        "-u",
        str(config.users),
        "-r",
        f"{config.spawn_rate if config.spawn_rate is not None else config.users:g}",
        "-t",
        format_duration(config.duration_s),
        "--exit-code-on-error",
        "0",
        "--only-summary",
        "--json-file",
        str(config.out_dir / STATS_BASENAME),
        "--stop-timeout",
        "1",
        *_custom_args(config),
    ]
    if config.distributed:
        argv += [
            "--master",
            "--expect-workers",
            str(config.workers + config.remote_workers),
            "--expect-workers-max-wait",
            str(int(config.startup_grace_s)),
            "--master-bind-host",
            config.master_bind_host,
            "--master-bind-port",
            str(master_port),
        ]
    return argv + list(config.extra_args)


def _custom_args(config: LoadConfig) -> list[str]:
    return [
        "--shape",
        config.shape,
        "--timeline-dir",
        str(config.out_dir),
        "--timeline-bucket-ms",
        str(config.bucket_ms),
        "--connect-timeout",
        f"{config.connect_timeout_s:g}",
        "--response-timeout",
        f"{config.response_timeout_s:g}",
        "--task-rate",
        f"{config.task_rate:g}",
        "--fresh-rate",
        f"{config.fresh_rate:g}",
    ]


def worker_argv(config: LoadConfig, master_port: int, master_host: str = "127.0.0.1") -> list[str]:
    """The argv of one worker (also what a remote worker runs, with its own ``--master-host``)."""
    return [
        config.python,
        "-m",
        "locust",
        "-f",
        str(config.locustfile),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]


def check_reachable(url: str, *, timeout_s: float = 2.0, flag: str = "--url") -> None:
    """Fail fast with :class:`UsageError` when nothing answers HTTP at ``url`` (TCP connect, then one GET)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UsageError(f"{flag} {url!r} has a bad port: use a form like http://127.0.0.1:8080") from exc
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
    cwd = config.locustfile.parent.parent
    log_path = out / LOG_FILE
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
            logs.append(open(log_path, "ab"))  # noqa: SIM115 - closed below
            procs.append(_start(argv, logs[-1], cwd))
            for index in range(config.workers if w_argv else 0):
                logs.append(open(out / f"locust-worker-{index + 1}.log", "ab"))  # noqa: SIM115
                procs.append(_start(list(w_argv or ()), logs[-1], cwd))
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
    "DEFAULT_LOCUSTFILE",
    "SHAPES",
    "LoadConfig",
    "LoadResult",
    "check_reachable",
    "format_duration",
    "locust_argv",
    "parse_duration",
    "run_load",
    "worker_argv",
]
