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
from aftershock.core.target import Target, load_target
from aftershock.core.workload import missing_env
from aftershock.load.locustfile import check_locustfile
from aftershock.objectives import resolve_objectives

# LoadSettings field -> the experiment configuration key that sets it
LOAD_KEYS = {"users": "aftershock_users", "spawn_rate": "aftershock_spawn_rate", "shape": "aftershock_shape",
             "load_duration_s": "aftershock_load_duration_s", "workers": "aftershock_workers",
             "ledger": "aftershock_ledger", "ledger_rate": "aftershock_ledger_rate",
             "store_ledgers": "aftershock_store_ledgers", "store_ledger_rate": "aftershock_store_ledger_rate",
             "task_rate": "aftershock_task_rate", "soak_s": "aftershock_soak_s"}
LOCUSTFILE_KEY = "aftershock_locustfile"
# LoadSettings fields a target's ``load:`` section sets (below the experiment and the command line)
TARGET_LOAD_FIELDS = ("users", "spawn_rate", "shape", "task_rate", "connect_timeout_s", "response_timeout_s")


def text(configuration: Mapping[str, Any] | None, key: str) -> str:
    """A resolved string setting; an unresolved ``{type: env, ...}`` mapping (raw experiment) counts as unset."""
    value = (configuration or {}).get(key)
    return value if isinstance(value, str) else ""


def load_settings(configuration: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None = None,
                  target: Target | None = None) -> LoadSettings:
    """The experiment's load settings over the target's ``load:`` section, with ``overrides`` (command-line
    options; None: not given) on top."""
    config = configuration or {}
    values = {field: getattr(target.load, field) for field in TARGET_LOAD_FIELDS
              if target is not None and getattr(target.load, field) is not None}
    values.update({field: config[key] for field, key in LOAD_KEYS.items() if config.get(key) not in (None, "")})
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return LoadSettings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err["loc"] else "?"
        raise UsageError(f"bad aftershock load setting {LOAD_KEYS.get(field, field)}={err.get('input')!r}: "
                         f"{err['msg']}; fix the experiment configuration") from exc


def locustfile_of(configuration: Mapping[str, Any] | None, target: Target, cli: str | Path | None = None,
                  experiment_dir: Path | None = None) -> str | None:
    """The checked, absolute locustfile of a run (command line > experiment > target), None for the built-in
    shop journeys; :class:`UsageError` naming where a bad one came from."""
    from_experiment = text(configuration, LOCUSTFILE_KEY)
    if cli:
        path, source = Path(cli), "--locustfile"
    elif from_experiment:
        path, source = (experiment_dir or Path.cwd()) / Path(from_experiment).expanduser(), LOCUSTFILE_KEY
    elif target.load.locustfile:
        path, source = Path(target.load.locustfile), f"load.locustfile of target {target.name}"
    else:
        return None
    return str(check_locustfile(path, source=source))


def check_headers(target: Target) -> None:
    """Every ``{from_env: VAR}`` header of the target has its variable set (checked before anything starts)."""
    missing = missing_env(target.load.http.headers)
    if missing:
        raise UsageError(f"target {target.name}: load.http.headers needs the environment variable of "
                         f"{', '.join(missing)}: export it before the run", target=target.name)


def resolve_plan(configuration: Mapping[str, Any] | None, *, experiment: str, title: str = "",
                 target_ref: str = "lab", load: Mapping[str, Any] | None = None, runner: Runner = "aftershock run",
                 default_scenario: str = "experiment", started_at: float = 0.0,
                 locustfile: str | Path | None = None, experiment_dir: Path | None = None) -> RunPlan:
    """Resolve the plan of one run: the target (parsed once, kept as a snapshot), objectives, load settings
    (the locustfile checked: command line ``locustfile`` > experiment > target > built-in)."""
    config = configuration or {}
    target = load_target(target_ref)
    check_headers(target)
    disruption = text(config, "aftershock_disruption") or "application"
    overrides = config.get("aftershock_objectives") or {}
    objectives = resolve_objectives(target, disruption, overrides if isinstance(overrides, Mapping) else {})
    judge = tuple(n.strip() for n in str(config.get("aftershock_judge") or "").split(",") if n.strip())
    settings = {**(load or {}), "locustfile": locustfile_of(config, target, locustfile, experiment_dir)}
    return RunPlan(experiment=experiment, title=title, scenario=text(config, "aftershock_scenario") or default_scenario,
                   disruption=disruption, judge=judge, target=target.name, target_ref=str(target_ref),
                   snapshot=target, objectives=objectives, load=load_settings(config, settings, target),
                   slow_ms=resolve_slow_ms(config, target.slow_ms), runner=runner, started_at=started_at)


def resolve_slow_ms(configuration: Mapping[str, Any] | None, default: float) -> float:
    """The experiment's ``aftershock_slow_ms`` (a positive number of milliseconds), else ``default`` (the
    target's ``slow_ms``)."""
    value = (configuration or {}).get("aftershock_slow_ms")
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if isinstance(value, bool) or not number > 0:
        raise UsageError(f"bad aftershock setting aftershock_slow_ms={value!r}: use a positive number of "
                         "milliseconds in the experiment configuration (e.g. aftershock_slow_ms: 1000)")
    return number


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


__all__ = ["LOAD_KEYS", "load_settings", "open_run", "resolve_plan", "resolve_slow_ms", "text"]
