"""A load run that starts now and stops when told (the chaos control's view of Locust).

:func:`aftershock.load.launcher.run_load` runs Locust to completion for ``aftershock load``; an experiment instead needs
load running *around* it: started before the steady-state hypothesis, stopped after the rollbacks. Locust
still runs as a subprocess (never imported here), bounded by its own ``-t`` as a last resort.

Example::

    session = LoadSession.start(LoadConfig(url=front_door, users=20, duration_s=300, out_dir=run.path))
    ...
    session.stop()
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.procs import spawn
from aftershock.load.config import LOG_FILE, LoadConfig, locust_argv, worker_argv


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LoadSession:
    """Running Locust processes of one run (master or single process first)."""

    config: LoadConfig
    procs: list[subprocess.Popen[bytes]]
    started_at: float
    port: int | None = None
    """The master's port for workers (None: a single process)."""

    @classmethod
    def start(cls, config: LoadConfig, *, log_name: str = LOG_FILE) -> LoadSession:
        config.out_dir.mkdir(parents=True, exist_ok=True)
        port = (config.master_port or _free_port()) if config.distributed else None
        argv = locust_argv(config, master_port=port)
        cwd = config.cwd
        logs = config.out_dir / "logs"
        logs.mkdir(exist_ok=True)
        started = time.time()
        procs = [spawn(argv, log_path=logs / log_name, cwd=cwd)]
        if port is not None:
            for index in range(config.workers):
                procs.append(spawn(worker_argv(config, port), log_path=logs / f"locust-worker-{index + 1}.log",
                                   cwd=cwd))
        return cls(config, procs, started, port)

    def worker_command(self, master_host: str = "<this host>") -> str:
        """What a worker on another host runs to join (the same locustfiles must be there)."""
        argv = worker_argv(self.config, self.port or 0, master_host)
        return " ".join(["python", *argv[1:]])

    @property
    def running(self) -> bool:
        return self.procs[0].poll() is None

    def stop(self, grace_s: float = 10.0) -> int | None:
        """SIGINT (Locust flushes its timeline), then SIGKILL after ``grace_s``; returns the exit code."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return self.procs[0].returncode


def log_tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log (to explain a load generator that died)."""
    try:
        with path.open(errors="replace") as fh:
            return "".join(fh.readlines()[-lines:]).strip()
    except OSError:
        return ""


__all__ = ["LoadSession", "log_tail"]
