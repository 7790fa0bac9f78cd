"""``aftershock run`` in steps: prepare (validate everything), execute (Chaos Toolkit on the main thread with
rollbacks always), safety net (revert whatever is still injected), summarize.

No fault is injected before every check has passed; every injected fault is reverted on success, failure,
exception, Ctrl-C and SIGTERM (by the experiment's rollbacks, then by the safety net here).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aftershock.core.errors import UsageError
from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.core.target import Target, load_target
from aftershock.faults.context import TARGET_ENV
from aftershock.faults.registry import driver_for
from aftershock.faults.reverts import revert_outstanding
from aftershock.load.launcher import check_reachable
from aftershock.objectives import resolve_objectives
from aftershock.session import ENV_OVERRIDES
from aftershock.summary import Summary, write_summary
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


@dataclass(frozen=True)
class RunPlan:
    experiment_path: Path
    experiment: dict[str, Any]
    target: Target
    options: RunOptions
    objectives: dict[str, float]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def scenario(self) -> str:
        config = self.experiment.get("configuration") or {}
        return str(config.get("aftershock_scenario") or self.experiment_path.stem)


def prepare(experiment_path: Path, options: RunOptions) -> RunPlan:
    """Validate the experiment, the target, the objectives and the options; change nothing."""
    if options.users is not None and options.users < 1:
        raise UsageError(f"--users {options.users} must be at least 1: pass a positive number of users")
    if options.workers is not None and options.workers < 0:
        raise UsageError(f"--workers {options.workers} must be 0 or more")
    if options.shape is not None and options.shape not in ("steady", "step", "spike"):
        raise UsageError(f"--shape {options.shape!r} is unknown: use one of steady, step, spike")
    experiment = load_experiment_file(experiment_path)
    target = load_target(options.target)
    config = experiment.get("configuration") or {}
    overrides = config.get("aftershock_objectives") or {}
    objectives = resolve_objectives(target, str(config.get("aftershock_disruption", "application")), overrides)
    env = {TARGET_ENV: options.target}
    values = {"aftershock_users": options.users, "aftershock_spawn_rate": options.spawn_rate,
              "aftershock_shape": options.shape, "aftershock_load_duration_s": options.load_duration_s,
              "aftershock_workers": options.workers,
              "aftershock_ledger": None if options.ledger is None else str(options.ledger).lower()}
    for key, value in values.items():
        if value is not None:
            env[ENV_OVERRIDES[key]] = str(value)
    return RunPlan(experiment_path, experiment, target, options, objectives, env)


def describe(plan: RunPlan) -> list[str]:
    """What a run would do, step by step (``--dry-run``)."""
    lines = [f"experiment {plan.experiment_path}: {plan.experiment.get('title')}",
             f"target {plan.target.name} ({plan.target.kind}), front door {plan.target.front_door.url}",
             "objectives " + ", ".join(f"{k} <= {v:g}" for k, v in plan.objectives.items()),
             "before: start load (Locust), the RPO ledger and the sampler; wait for traffic"]
    for where, activity in activities(plan.experiment):
        provider = activity.get("provider") or {}
        args = ", ".join(f"{k}={v!r}" for k, v in (provider.get("arguments") or {}).items())
        lines.append(f"{where}: {activity.get('type')} {activity.get('name')!r} -> "
                     f"{provider.get('module')}.{provider.get('func')}({args})")
    lines.append("after: revert any fault still injected, stop load/ledger/sampler, write summary.json")
    lines.append("dry run: nothing was injected")
    return lines


def dry_run_calls(plan: RunPlan) -> None:
    """For an AWS target: run the method's fault actions with the driver in dry-run mode, which prints every
    API call it would make (reads are made, nothing is mutated). The lab needs no such pass."""
    if plan.target.kind != "aws":
        return
    import importlib
    import tempfile

    with tempfile.TemporaryDirectory(prefix="aftershock-dry-") as tmp, \
            _env({"AFTERSHOCK_AWS_DRY_RUN": "1", RUN_DIR_ENV: tmp, TARGET_ENV: plan.options.target}):
        for _, activity in activities({"method": plan.experiment.get("method") or []}):
            provider = activity.get("provider") or {}
            if activity.get("type") != "action" or provider.get("module") != "aftershock.faults.actions":
                continue
            func = getattr(importlib.import_module("aftershock.faults.actions"), str(provider.get("func")))
            func(**(provider.get("arguments") or {}),
                 configuration={"aftershock_target": plan.options.target, "aftershock_run_dir": tmp})


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


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while restoring the target: a half-done revert is worse than a late exit."""
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


LOGGERS = ("chaostoolkit", "aftershock", "faults", "probes")


def _log_to(run: RunFolder) -> logging.Handler:
    """Chaos Toolkit's and our own logs go to ``logs/harness.log`` in the run folder, not the console."""
    handler = logging.FileHandler(run.path / "logs" / "harness.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return handler


def safety_net(run: RunFolder, target: Target) -> list[str]:
    """Revert every fault of ``run`` that is still injected and wait for the target's baseline."""
    if not outstanding(run):
        return []
    with _signals_deferred():
        driver = driver_for(target)
        done = revert_outstanding(run, driver, by="safety-net")
        driver.wait_healthy(180)
    return done


def write_reports_safely(run: RunFolder) -> None:
    """report.html, report.md, junit.xml and a history record; a report failure never hides the summary."""
    from aftershock.reports import write_reports

    try:
        write_reports(run.path)
    except Exception as exc:
        run.append("measurements.jsonl", {"ts": time.time(), "kind": "report.error", "error": str(exc)})
        logging.getLogger("aftershock").exception("writing the reports failed")


def execute(plan: RunPlan) -> tuple[RunFolder, Summary]:
    """Run the experiment against the target; always ends with the safety net and a summary."""
    check_reachable(plan.target.front_door.url, flag="--target front door")
    run = RunFolder.create(plan.options.out, plan.scenario)
    run.write_json("run.json", {"experiment": str(plan.experiment_path), "title": plan.experiment.get("title"),
                                "scenario": plan.scenario, "target": plan.target.name, "started_at": time.time(),
                                "objectives": plan.objectives, "env": plan.env, "runner": "aftershock run"})
    handler = _log_to(run)
    from chaoslib.experiment import run_experiment

    journal: dict[str, Any] | None = None
    try:
        with _env({**plan.env, RUN_DIR_ENV: str(run.path)}):
            try:
                journal = run_experiment(plan.experiment, settings=SETTINGS)
            except KeyboardInterrupt:
                run.mark("run.interrupted", signal="SIGINT", where="outside the experiment")
            finally:
                safety_net(run, plan.target)
                _mark_ended(run)
            if journal is not None and not run.file("journal.json").exists():
                run.write_json("journal.json", journal)
            summary = write_summary(run, plan.experiment.get("configuration") or {})
            write_reports_safely(run)
    finally:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()
        _mark_ended(run)
    return run, summary


def _mark_ended(run: RunFolder) -> None:
    """Record when the run ended (once: the experiment and the safety net are over)."""
    meta = run.read_json("run.json")
    if "ended_at" not in meta:
        meta["ended_at"] = time.time()
        run.write_json("run.json", meta)
