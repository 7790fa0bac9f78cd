"""``aftershock gameday PLAN.yaml`` and ``aftershock watch RUN_FOLDER``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from aftershock.cli.run import remote_worker_options, warn
from aftershock.console import stdout
from aftershock.core.target import load_target
from aftershock.gameday.dashboard import watch
from aftershock.gameday.operator import Interactive, Operator, Unattended
from aftershock.gameday.plan import load_plan
from aftershock.gameday.runner import GameDay
from aftershock.locking import holding, new_run_id


@click.command()
@click.argument("plan_file", metavar="PLAN.yaml", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Unattended: go for every step without asking; stop after an abort.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True,
              help="Folder for the game-day folder (each step's run folder goes into its steps/).")
@click.option("--force-unlock", is_flag=True,
              help="Take the targets' locks even if another run holds them (only when that run is dead).")
@remote_worker_options
def gameday_command(plan_file: Path, yes: bool, out: Path, force_unlock: bool, remote_workers: int | None,
                    master_bind: str | None, master_port: int | None) -> None:
    """Run a game day: the plan's experiments one by one, each after a go / skip / stop, under a live dashboard.

    \b
    During a step, press `a` (or Ctrl-C) to abort it: the fault is rolled back at once and the abort is
    recorded in the game-day report (gameday.html / gameday.md in the game-day folder).
    The game day holds the lock of every target of its steps (its steps run under it; another run exits 2).
    Exit code 0: every step that ran met its objectives; 1: a step missed, was aborted or failed; 2: bad input or
    a locked target.
    """
    plan = load_plan(plan_file)
    console = stdout()
    operator: Operator = Unattended() if yes else Interactive(lambda prompt: console.input(Text(prompt, style="bold")))
    targets = [load_target(plan.step_target(step)) for step in plan.steps]
    run_id = new_run_id(f"gameday-{plan.title}")
    with holding(targets, run_id=run_id, force=force_unlock, warn=warn):
        day = GameDay.begin(plan, out=out, operator=operator, console=console,
                            remote=(remote_workers, master_bind, master_port), lock_id=run_id)
        code = day.run()
    sys.exit(code)


@click.command()
@click.argument("run_folder", type=click.Path(path_type=Path))
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Seconds between frames.")
def watch_command(run_folder: Path, once: bool, interval: float) -> None:
    """Show the live dashboard of RUN_FOLDER (a run folder, or a game-day or runs folder: its newest run).

    Read-only: leaving it (Ctrl-C) does not touch the run.
    """
    try:
        watch(run_folder, stdout(), once=once, interval_s=interval)
    except KeyboardInterrupt:
        return


@click.group()
def main() -> None:
    """The game-day commands on their own (``python -m aftershock.cli.gameday``) until ``aftershock`` has them."""


main.add_command(gameday_command, "gameday")
main.add_command(watch_command, "watch")

if __name__ == "__main__":
    main()
