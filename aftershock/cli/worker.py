"""``aftershock worker``: a Locust worker for a run's master on another host (the container's entry point).

It runs ``python -m locust -f <files> --worker --master-host HOST --master-port PORT`` with the same files the
master uses: the built-in shop journeys, or ``--locustfile`` plus aftershock's plugin file (found in this
installation, so the path is right on any host). Every setting of the run (timeline, timeouts, headers, probe)
comes from the master with its spawn message; ``{from_env: VAR}`` header values come from this host's
environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from aftershock.core.errors import UsageError
from aftershock.load.locustfile import locustfiles


def worker_argv(master_host: str, master_port: int, locustfile: Path | None) -> list[str]:
    """The Locust argv this worker execs (checked first: a missing locustfile is exit-2 input)."""
    if locustfile is not None and not locustfile.is_file():
        raise UsageError(f"--locustfile {locustfile}: no such file on this worker host; copy the run's locustfile "
                         "here (the same path or any path) or mount it (deploy/kubernetes: the ConfigMap)")
    if not 0 < master_port < 65536:
        raise UsageError(f"--master-port {master_port}: not a TCP port; use the port the run printed")
    return [sys.executable, "-m", "locust", "-f", locustfiles(locustfile.resolve() if locustfile else None),
            "--worker", "--master-host", master_host, "--master-port", str(master_port)]


@click.command("worker")
@click.option("--master-host", required=True, help="host or address of the run's Locust master")
@click.option("--master-port", type=int, default=5557, show_default=True, help="the master's port for workers")
@click.option("--locustfile", type=click.Path(path_type=Path), default=None,
              help="the run's own locustfile (default: the built-in shop journeys)")
def worker_command(master_host: str, master_port: int, locustfile: Path | None) -> None:
    """Join a run's load as a Locust worker (on another host; see deploy/kubernetes/)."""
    argv = worker_argv(master_host, master_port, locustfile)
    sys.stdout.flush()
    os.execv(argv[0], argv)  # Locust becomes this process: signals and exit code are its own
