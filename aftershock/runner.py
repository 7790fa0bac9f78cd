"""``aftershock run`` in steps: prepare (validate everything and resolve the plan once), execute (write the plan
into ``run.json``, run Chaos Toolkit on the main thread with rollbacks always), finish (safety net, summary,
reports: :mod:`aftershock.finish`, done by the control unless it never got to run).

No fault is injected before every check has passed; every injected fault is reverted on success, failure,
exception, Ctrl-C and SIGTERM (by the experiment's rollbacks, then by the safety net here).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.core.errors import HarnessError, UsageError
from aftershock.core.journal import outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.plan import RunPlan, write_plan
from aftershock.core.runfolder import MARKERS, RUN_DIR_ENV, RunFolder
from aftershock.core.target import Target
from aftershock.core.verdict import Summary
from aftershock.faults.dns import require_dns_front_door
from aftershock.finish import finish_run
from aftershock.load.launcher import check_reachable
from aftershock.planning import resolve_plan
from aftershock.validate import activities, load_experiment_file

SETTINGS = {"runtime": {"rollbacks": {"strategy": "always"}, "hypothesis": {"strategy": "default"}}}


@dataclass(frozen=True)
class RunOptions:
    target: str = "lab"
    users: int | None = None
    spawn_rate: float | None = None
    shape: str | None = None
    load_duration_s: float | None = None
    workers: int | None = None
    ledger: bool | None = None
    out: Path = Path("runs")
    locustfile: Path | None = None
    """``--locustfile``: above the experiment's ``aftershock_locustfile`` and the target's ``load.locustfile``."""
    remote_workers: int | None = None
    master_bind_host: str | None = None
    master_port: int | None = None
    soak_s: float | None = None
    """``--soak``: steady load and ledger before the hypothesis and the faults."""


@dataclass(frozen=True)
class PreparedRun:
    """A validated experiment and its resolved plan; nothing has changed yet."""

    experiment_path: Path
    experiment: dict[str, Any]
    options: RunOptions
    plan: RunPlan

    @property
    def scenario(self) -> str:
        return self.plan.scenario

    @property
    def target(self) -> Target:
        return self.plan.snapshot

    @property
    def objectives(self) -> dict[str, float]:
        return self.plan.objectives


def _resolved_configuration(experiment: dict[str, Any]) -> dict[str, Any]:
    """The experiment's configuration as Chaos Toolkit resolves it (``{type: env, ...}`` values read)."""
    from chaoslib.configuration import load_configuration

    try:
        return dict(load_configuration(dict(experiment.get("configuration") or {})) or {})
    except Exception as exc:  # chaoslib raises its own errors for unset env values without a default
        raise UsageError(f"the experiment's configuration cannot be resolved ({exc}): set the variable it names "
                         "or give a default") from exc


def prepare(experiment_path: Path, options: RunOptions) -> PreparedRun:
    """Validate the experiment, the target, the objectives and the options and resolve the plan; change nothing."""
    if options.users is not None and options.users < 1:
        raise UsageError(f"--users {options.users} must be at least 1: pass a positive number of users")
    if options.workers is not None and options.workers < 0:
        raise UsageError(f"--workers {options.workers} must be 0 or more")
    if options.remote_workers is not None and options.remote_workers < 0:
        raise UsageError(f"--remote-workers {options.remote_workers} must be 0 or more")
    if options.shape is not None and options.shape not in ("steady", "step", "spike"):
        raise UsageError(f"--shape {options.shape!r} is unknown: use one of steady, step, spike")
    experiment = load_experiment_file(experiment_path)
    load = {"users": options.users, "spawn_rate": options.spawn_rate, "shape": options.shape,
            "load_duration_s": options.load_duration_s, "workers": options.workers, "ledger": options.ledger,
            "remote_workers": options.remote_workers, "master_bind_host": options.master_bind_host,
            "master_port": options.master_port, "soak_s": options.soak_s}
    plan = resolve_plan(_resolved_configuration(experiment), experiment=str(experiment_path),
                        title=str(experiment.get("title") or ""), target_ref=options.target, load=load,
                        default_scenario=experiment_path.stem, locustfile=options.locustfile,
                        experiment_dir=experiment_path.resolve().parent)
    require_dns_front_door(experiment, plan.snapshot, experiment_path.stem)  # refused before anything starts
    return PreparedRun(experiment_path, experiment, options, plan)


def describe(plan: PreparedRun) -> list[str]:
    """What a run would do, step by step (``--dry-run``)."""
    lines = [f"experiment {plan.experiment_path}: {plan.experiment.get('title')}",
             f"target {plan.target.name} ({plan.target.kind}), front door {plan.target.front_door.url}",
             "objectives " + ", ".join(f"{k} <= {v:g}" for k, v in plan.objectives.items()),
             f"before: start load (Locust: {plan.plan.load.locustfile or 'built-in shop journeys'}), the RPO ledger "
             "and the sampler; wait for traffic"]
    for where, activity in activities(plan.experiment):
        provider = activity.get("provider") or {}
        args = ", ".join(f"{k}={v!r}" for k, v in (provider.get("arguments") or {}).items())
        lines.append(f"{where}: {activity.get('type')} {activity.get('name')!r} -> "
                     f"{provider.get('module')}.{provider.get('func')}({args})")
    lines.append("after: revert any fault still injected, stop load/ledger/sampler, write summary.json")
    lines.append("dry run: nothing was injected")
    return lines


FAULT_MODULES = ("aftershock.faults.actions", "aftershock.faults.dns", "aftershock.faults.data_actions")
"""The modules whose method actions inject faults (a dry run lists their calls)."""


def dry_run_calls(plan: PreparedRun) -> None:
    """For an AWS target: run the method's fault actions with the driver in dry-run mode, which prints every
    API call it would make (reads are made, nothing is mutated). The lab needs no such pass."""
    if plan.target.kind != "aws":
        return
    import importlib
    import tempfile

    with tempfile.TemporaryDirectory(prefix="aftershock-dry-") as tmp:
        write_plan(RunFolder(Path(tmp)), plan.plan.model_copy(update={"dry_run": True}))
        for _, activity in activities({"method": plan.experiment.get("method") or []}):
            provider = activity.get("provider") or {}
            module = str(provider.get("module"))
            if activity.get("type") != "action" or module not in FAULT_MODULES:
                continue
            func = getattr(importlib.import_module(module), str(provider.get("func")))
            func(**(provider.get("arguments") or {}), configuration={"aftershock_run_dir": tmp})


@contextlib.contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


LOGGERS = ("chaostoolkit", "aftershock", "faults", "probes")


class _RunLogHandler(logging.FileHandler):
    """``logs/harness.log``; a write that fails (a full disk) marks the folder unwritable instead of printing a
    traceback per record: the run then stops and exits 2 with that reason."""

    def __init__(self, run: RunFolder) -> None:
        super().__init__(run.path / "logs" / "harness.log")
        self.run = run

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            self.run.note_failure("logs/harness.log", exc)
        else:
            super().handleError(record)


def _log_to(run: RunFolder) -> logging.Handler:
    """Chaos Toolkit's and our own logs go to ``logs/harness.log`` in the run folder, not the console."""
    handler = _RunLogHandler(run)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return handler


def execute(prepared: PreparedRun) -> tuple[RunFolder, Summary]:
    """Run the experiment against the target; always ends with the post-processing (safety net, summary,
    reports), exactly once: by the control, or here when the control never got to it."""
    check_reachable(prepared.target.front_door.url, flag="--target front door",
                    resolver=prepared.target.load.resolver)
    run = RunFolder.create(prepared.options.out, prepared.scenario)
    write_plan(run, prepared.plan.model_copy(update={"started_at": time.time()}))
    handler = _log_to(run)
    from chaoslib.experiment import run_experiment

    journal: dict[str, Any] | None = None
    try:
        with _env({RUN_DIR_ENV: str(run.path)}):
            try:
                journal = run_experiment(prepared.experiment, settings=SETTINGS)
            except KeyboardInterrupt:
                run.mark(MarkerKind.RUN_INTERRUPTED, signal="SIGINT", where="outside the experiment")
            finally:
                summary = finish_run(run, by="aftershock run", journal=journal)
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    if run.write_failure is not None:
        raise run.unwritable()
    missing = [r for r in run.records(MARKERS, skip_broken=True)
               if r.get("kind") == MarkerKind.LOAD_WORKERS_MISSING]
    if missing:  # nothing was injected: bad input (exit 2), not a failed objective
        raise UsageError(str(missing[0].get("message")), target=prepared.target.name, path=str(run.path))
    left = outstanding(run)
    if left:
        raise HarnessError(f"{len(left)} fault(s) of {run.path} are still injected after the safety net: run "
                           f"`aftershock recover {run.path}`", path=str(run.path))
    return run, summary
