"""``aftershock run``, ``aftershock recover`` and ``aftershock demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aftershock.bundled import resolve_experiment
from aftershock.console import stderr, stdout
from aftershock.core import paths
from aftershock.core.errors import UsageError
from aftershock.core.figures import rto_error_warning, with_error
from aftershock.core.journal import outstanding
from aftershock.core.plan import read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.verdict import Summary
from aftershock.finish import safety_net
from aftershock.load.config import parse_duration
from aftershock.locking import holding, new_run_id
from aftershock.runner import RunOptions, describe, dry_run_calls, execute, prepare


def print_summary(run: RunFolder, summary: Summary) -> None:
    console = stdout()
    verdict = "[bold green]PASSED[/]" if summary.passed else "[bold red]FAILED[/]"
    console.print(f"{verdict} {summary.scenario} on {summary.target}: status {summary.status}"
                  f"{', steady state deviated' if summary.deviated else ''}")
    table = Table(title="objectives")
    for col in ("objective", "target", "measured", "met"):
        table.add_column(col)
    for v in summary.objectives:
        measured = "not measured" if v.measured is None else f"{round(v.measured, 3):g} {v.unit}"
        if v.name == "rto_s" and v.measured is not None and summary.figures.rto is not None:
            measured = with_error(v.measured, summary.figures.rto.rto_error_s, v.unit)
        table.add_row(v.name, f"<= {v.target:g} {v.unit}", measured, "yes" if v.met else "[red]no[/]")
    console.print(table)
    for line in summary.deviations:
        console.print(f"[yellow]deviated:[/] {line}", highlight=False)
    rto = summary.figures.rto
    warning = rto_error_warning(rto.rto_s, rto.rto_error_s, rto.clock_offset_ms) if rto is not None else None
    if warning:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    ledger = summary.figures.rpo
    if ledger:
        console.print(f"ledger: {ledger.acknowledged} acknowledged, {ledger.kept} kept, {ledger.lost} lost, "
                      f"{ledger.in_doubt} in doubt; RPO {round(ledger.rpo_s, 3):g} s")
    for key, label in (("traffic_shift_s", "traffic shifted to the other region after"),
                       ("replication_lag_s", "cross-region replication lag before the fault")):
        value = summary.figures.figure(key)
        if value is not None:
            console.print(f"{label}: {round(value, 3):g} s")
    for error in summary.errors:
        console.print(f"[red]{error}[/]")
    console.print(f"run folder: {run.path}")
    if run.file("report.html").exists():
        console.print(f"report: {run.file('report.html')}")


Remote = tuple[int | None, str | None, int | None]
"""``--remote-workers``, ``--master-bind``, ``--master-port`` (None: not given)."""


def _options(target: str, users: int | None, duration: str | None, shape: str | None, workers: int | None,
             out: Path, ledger: bool | None, locustfile: Path | None = None, remote: Remote = (None, None, None),
             soak: str | None = None) -> RunOptions:
    return RunOptions(target=target, users=users, shape=shape, workers=workers, out=out, ledger=ledger,
                      load_duration_s=parse_duration(duration) if duration else None, locustfile=locustfile,
                      remote_workers=remote[0], master_bind_host=remote[1], master_port=remote[2],
                      soak_s=_soak(soak))


def _soak(soak: str | None) -> float | None:
    return None if soak is None else parse_duration(soak, flag="--soak")


def remote_worker_options(func: Any) -> Any:
    """The options for Locust workers started on other hosts (``aftershock run`` and ``aftershock gameday``)."""
    func = click.option("--master-port", type=int, default=None,
                        help="Port the Locust master listens on for workers [default: a free one].")(func)
    func = click.option("--master-bind", default=None,
                        help="Interface the master listens on (0.0.0.0 for remote workers) [default: 127.0.0.1].")(func)
    return click.option("--remote-workers", type=int, default=None,
                        help="Locust workers started on other hosts to wait for before the warm-up: each runs "
                             "`locust -f ... --worker --master-host HOST --master-port PORT` (printed).")(func)


def _experiment_path(experiment: str) -> Path:
    return resolve_experiment(experiment)


@click.command()
@click.argument("experiment")
@click.option("--target", default="lab", show_default=True, help="`lab` or a target YAML file.")
@click.option("--users", type=int, default=None, help="Locust users (default: the experiment's).")
@click.option("--duration", default=None, help="Upper bound of the load run, e.g. 90s or 5m.")
@click.option("--shape", default=None, help="Load shape: steady, step or spike.")
@click.option("--workers", type=int, default=None, help="Local Locust worker processes.")
@click.option("--ledger/--no-ledger", default=None, help="Run the RPO write ledger (default: the experiment's).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True,
              help="Folder for run folders.")
@click.option("--locustfile", type=click.Path(path_type=Path), default=None,
              help="Your own Locust journeys (any User classes) instead of the shop's; aftershock adds the "
                   "timeline and the fresh-connection probe.")  # fmt: skip
@click.option("--soak", default=None, metavar="DURATION",
              help="Soak first: load and ledger run this long (e.g. 60m) before the hypothesis and the faults.")
@remote_worker_options
@click.option("--dry-run", is_flag=True, help="Validate everything and print what would be done; inject nothing.")
@click.option("--force-unlock", is_flag=True,
              help="Take the target's lock even if another run holds it (only when that run is dead).")
@click.option("--under-lock", default=None, hidden=True, metavar="RUN_ID",
              help="Run under the lock that RUN_ID (a game day) holds for its steps.")
def run_command(experiment: str, target: str, users: int | None, duration: str | None, shape: str | None,
                workers: int | None, ledger: bool | None, out: Path, locustfile: Path | None, soak: str | None,
                remote_workers: int | None, master_bind: str | None, master_port: int | None, dry_run: bool,
                force_unlock: bool, under_lock: str | None) -> None:
    """Run EXPERIMENT (a file, or a name from experiments/) under load and measure RTO, RPO and scaling.

    One run per target at a time: the run holds the target's lock (a second run exits 2 naming the holder).
    Exit code 0: every objective met; 1: an objective missed or the experiment deviated; 2: bad input, a locked
    target or a harness failure.
    """
    plan = prepare(_experiment_path(experiment),
                   _options(target, users, duration, shape, workers, out, ledger, locustfile,
                            (remote_workers, master_bind, master_port), soak))
    if dry_run:
        for line in describe(plan):
            stdout().print(line, highlight=False)
        dry_run_calls(plan)
        return
    with holding([plan.target], run_id=new_run_id(plan.scenario), force=force_unlock, warn=warn, under=under_lock):
        run, summary = execute(plan)
    print_summary(run, summary)
    sys.exit(summary.exit_code)


def warn(message: str) -> None:
    """A warning on stderr (a forced or stale lock taken over)."""
    stderr().print(f"[bold yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@click.command()
@click.argument("run_folder", type=click.Path(path_type=Path))
def recover_command(run_folder: Path) -> None:
    """Revert every fault a run left injected (after a crash of the harness) and wait for the baseline."""
    run = RunFolder(run_folder)
    if not run.file("run.json").exists():
        raise UsageError(f"{run_folder} is not a run folder (no run.json): pass a folder under runs/")
    target = read_plan(run).snapshot  # the target as it was when the run started
    if target.data_stores is not None:  # a killed run leaves its store ledger entries behind
        from aftershock.probes.ledger.store_cleanup import cleanup_store_ledgers

        for line in cleanup_store_ledgers(run.path, target):
            stdout().print(f"cleaned up: {line}", highlight=False)
    if target.identity is not None:  # ... and its identity ledger's test users
        from aftershock.probes.identity.cleanup import cleanup_identity_users

        for line in cleanup_identity_users(run.path, target).lines:
            stdout().print(f"cleaned up: {line}", highlight=False)
    pending = outstanding(run)
    if not pending:
        stdout().print("nothing to recover: every injected fault was reverted")
        return
    for line in safety_net(run, target):
        stdout().print(f"reverted: {line}", highlight=False)
    stdout().print("[green]the target is back to its baseline[/]")


@click.command()
@click.option("--users", type=int, default=20, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs"), show_default=True)
def demo_command(users: int, out: Path) -> None:
    """Start the lab, run the az-outage experiment under load, print the summary (the README's `make demo`)."""
    from aftershock.cli.lab import start_lab, stop_lab
    from aftershock.core.procs import pid_alive
    from aftershock.lab.state import read_state

    lab_dir = paths.lab_dir()
    state = read_state(lab_dir)
    started_here = not (state and pid_alive(state.pid))
    supervisor = None
    if started_here:
        stdout().print("starting the lab ...")
        supervisor = start_lab(lab_dir, detach=True)
    try:
        plan = prepare(resolve_experiment("az-outage"), RunOptions(target="lab", users=users, out=out))
        with holding([plan.target], run_id=new_run_id(plan.scenario), warn=warn):
            run, summary = execute(plan)
        print_summary(run, summary)
    finally:
        if supervisor is not None:
            stop_lab(lab_dir)
            supervisor.wait(timeout=30)  # stopped (or killed) by stop_lab: reap it
            stdout().print("lab stopped (start your own with `aftershock lab up --detach`)")
    sys.exit(summary.exit_code)
