"""Resolving a run's plan, once: experiment configuration + command-line options -> :class:`RunPlan`.

Used by ``aftershock run`` (:func:`aftershock.runner.prepare`) and, under plain ``chaos run``, by the aftershock
control (:func:`open_run`); everything downstream reads the plan from the run folder's ``run.json``.

Example::

    plan = resolve_plan(configuration, experiment="experiments/az-outage.yaml", target_ref="lab",
                        load={"users": 10})
    plan.objectives      # {"rto_s": 15.0, "rpo_s": 1.0}
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aftershock.core.errors import UsageError
from aftershock.core.plan import LoadSettings, Runner, RunPlan, has_plan, read_plan, write_plan
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.core.target import load_target
from aftershock.objectives import resolve_objectives

# LoadSettings field -> the experiment configuration key that sets it
LOAD_KEYS = {"users": "aftershock_users", "spawn_rate": "aftershock_spawn_rate", "shape": "aftershock_shape",
             "load_duration_s": "aftershock_load_duration_s", "workers": "aftershock_workers",
             "ledger": "aftershock_ledger", "ledger_rate": "aftershock_ledger_rate"}


def text(configuration: Mapping[str, Any] | None, key: str) -> str:
    """A resolved string setting; an unresolved ``{type: env, ...}`` mapping (raw experiment) counts as unset."""
    value = (configuration or {}).get(key)
    return value if isinstance(value, str) else ""


def load_settings(configuration: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None = None) -> LoadSettings:
    """The experiment's load settings, with ``overrides`` (command-line options; None: not given) on top."""
    config = configuration or {}
    values = {field: config[key] for field, key in LOAD_KEYS.items() if config.get(key) not in (None, "")}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return LoadSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        raise UsageError(f"bad aftershock load setting {LOAD_KEYS.get(field, field)}={err.get('input')!r}: "
                         f"{err['msg']}; fix the experiment configuration") from exc


def resolve_plan(configuration: Mapping[str, Any] | None, *, experiment: str, title: str = "",
                 target_ref: str = "lab", load: Mapping[str, Any] | None = None, runner: Runner = "aftershock run",
                 default_scenario: str = "experiment", started_at: float = 0.0) -> RunPlan:
    """Resolve the plan of one run: the target (parsed once, kept as a snapshot), objectives, load settings."""
    config = configuration or {}
    target = load_target(target_ref)
    disruption = text(config, "aftershock_disruption") or "application"
    overrides = config.get("aftershock_objectives") or {}
    objectives = resolve_objectives(target, disruption, overrides if isinstance(overrides, Mapping) else {})
    judge = tuple(n.strip() for n in str(config.get("aftershock_judge") or "").split(",") if n.strip())
    return RunPlan(experiment=experiment, title=title, scenario=text(config, "aftershock_scenario") or default_scenario,
                   disruption=disruption, judge=judge, target=target.name, target_ref=str(target_ref),
                   snapshot=target, objectives=objectives, load=load_settings(config, load), runner=runner,
                   started_at=started_at)


def open_run(configuration: Mapping[str, Any] | None,
             experiment: Mapping[str, Any] | None) -> tuple[RunFolder, RunPlan]:
    """The run folder and plan of the running experiment: the runner's (``$AFTERSHOCK_RUN_DIR`` holds a
    ``run.json``), else - plain ``chaos run`` - a new folder under ``./runs`` with a plan resolved from the
    experiment's configuration (target ``aftershock_target``, default ``lab``)."""
    path = text(configuration, "aftershock_run_dir") or os.environ.get(RUN_DIR_ENV, "")
    title = str((experiment or {}).get("title") or "")
    if path:
        run = RunFolder(Path(path))
        (run.path / "logs").mkdir(parents=True, exist_ok=True)
        if has_plan(run):
            return run, read_plan(run)
    else:
        run = RunFolder.create(Path("runs"), text(configuration, "aftershock_scenario") or "experiment")
    plan = resolve_plan(configuration, experiment=title or "experiment", title=title,
                        target_ref=text(configuration, "aftershock_target") or "lab", runner="chaos run",
                        default_scenario=title or "experiment", started_at=time.time())
    write_plan(run, plan)
    os.environ[RUN_DIR_ENV] = str(run.path)  # the activities find the run folder here
    return run, plan


__all__ = ["LOAD_KEYS", "load_settings", "open_run", "resolve_plan", "text"]
