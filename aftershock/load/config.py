"""What one Locust load run is: its validated :class:`LoadConfig`, the argv it becomes, and its :class:`LoadResult`.

Nothing here starts a process (see :mod:`aftershock.load.launcher`).

Example::

    config = LoadConfig(url="http://127.0.0.1:8080", users=20, duration_s=parse_duration("30s"), out_dir=Path("runs/x"))
    locust_argv(config)  # [sys.executable, "-m", "locust", "-f", ".../locustfile.py", "--headless", ...]
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aftershock.core.errors import HarnessError, UsageError
from aftershock.core.timeline.store import TIMELINE_FILE
from aftershock.core.workload import Transport
from aftershock.load.locustfile import BUILTIN_LOCUSTFILE, locustfiles

SHAPES = ("steady", "step", "spike")
DEFAULT_LOCUSTFILE = BUILTIN_LOCUSTFILE
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
    slow_ms: float = 1000.0
    """The timeline counts successes slower than this apart (bad for outages and the RTO)."""
    connect_timeout_s: float = 2.0
    response_timeout_s: float = 5.0
    task_rate: float = 2.0
    """Tasks per second per browser/shopper user (0: as fast as possible)."""
    fresh_rate: float = 20.0
    """Requests per second of the fresh-connection user."""
    locustfile: Path | None = None
    """The user's locustfile (checked by :func:`~aftershock.load.locustfile.check_locustfile`); None: the
    built-in shop journeys. aftershock's plugin file is loaded next to it."""
    transport: Transport = field(default_factory=Transport)
    """The target's probe and HTTP settings (header values from the environment by variable name only)."""
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
        if not self.slow_ms > 0:
            raise UsageError(f"slow_ms {self.slow_ms:g} must be positive milliseconds")
        if self.connect_timeout_s <= 0 or self.response_timeout_s <= 0:
            raise UsageError("--connect-timeout and --response-timeout must be positive seconds")
        if not BUILTIN_LOCUSTFILE.exists():
            raise HarnessError(f"locustfile {BUILTIN_LOCUSTFILE} is missing: reinstall aftershock from its source tree")

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def cwd(self) -> Path:
        """Where Locust runs: the user's locustfile's folder, else the source tree."""
        return BUILTIN_LOCUSTFILE.parent.parent if self.locustfile is None else self.locustfile.parent

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


def locust_argv(config: LoadConfig, *, master_port: int | None = None) -> list[str]:
    """The argv of the single Locust process or of the master."""
    argv = [
        config.python,
        "-m",
        "locust",
        "-f",
        locustfiles(config.locustfile),
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
        "--timeline-slow-ms",
        f"{config.slow_ms:g}",
        "--connect-timeout",
        f"{config.connect_timeout_s:g}",
        "--response-timeout",
        f"{config.response_timeout_s:g}",
        "--task-rate",
        f"{config.task_rate:g}",
        "--fresh-rate",
        f"{config.fresh_rate:g}",
        "--aftershock-transport",
        config.transport.model_dump_json(exclude_defaults=True),
    ]


def worker_argv(config: LoadConfig, master_port: int, master_host: str = "127.0.0.1") -> list[str]:
    """The argv of one worker (also what a remote worker runs, with its own ``--master-host``)."""
    return [
        config.python,
        "-m",
        "locust",
        "-f",
        locustfiles(config.locustfile),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(master_port),
    ]


__all__ = [
    "DEFAULT_LOCUSTFILE",
    "LOG_FILE",
    "SHAPES",
    "STATS_BASENAME",
    "LoadConfig",
    "LoadResult",
    "format_duration",
    "locust_argv",
    "parse_duration",
    "worker_argv",
]
