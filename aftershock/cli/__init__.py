"""The ``aftershock`` command line.

Exit codes: 0 success (all objectives met), 1 objectives missed or the experiment deviated,
2 bad input or harness failure (a one-line error names the culprit and the fix).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from aftershock import __version__
from aftershock.console import stderr
from aftershock.core.errors import AftershockError


class _Group(click.Group):
    """Turns every AftershockError into its one-line message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AftershockError as exc:
            stderr().print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="aftershock")
def main() -> None:
    """aftershock: inject real faults under real load and measure what they cost.

    \b
    RTO is measured from the traffic itself (100 ms timeline), RPO from a write ledger,
    and autoscaling from the replicas' response. The embedded lab (`aftershock lab up`)
    is the default target; `--target FILE` points at a real AWS stack.
    """


def _register() -> None:
    from aftershock.cli.gameday import gameday_command, watch_command
    from aftershock.cli.lab import lab
    from aftershock.cli.load import load_command
    from aftershock.cli.report import history_command, report_command
    from aftershock.cli.run import demo_command, recover_command, run_command
    from aftershock.cli.serve import serve_command
    from aftershock.cli.worker import worker_command

    main.add_command(lab)
    main.add_command(load_command, "load")
    main.add_command(run_command, "run")
    main.add_command(recover_command, "recover")
    main.add_command(demo_command, "demo")
    main.add_command(report_command, "report")
    main.add_command(history_command, "history")
    main.add_command(gameday_command, "gameday")
    main.add_command(watch_command, "watch")
    main.add_command(serve_command, "serve")
    main.add_command(worker_command, "worker")


_register()
