"""The run plan (``run.json``): everything a run was resolved to, once, before it started.

``aftershock run`` (or, under plain ``chaos run``, the aftershock control) resolves the experiment, the target,
the load settings and the objectives once and writes them here. Everything downstream - the control, the
session, the probes, the faults' :class:`~aftershock.faults.context.ActivityContext`, the summary, the reports,
``aftershock recover`` - reads its settings from this file; only the run folder's path travels through the
environment (``AFTERSHOCK_RUN_DIR``).

The target is kept as a snapshot of its parsed model. It holds no secret: a database password is only named
by its source (``database.password_from``) and is resolved by the driver when needed.

Example::

    plan = read_plan(run)
    plan.snapshot.primary.name, plan.load.users, plan.objectives["rto_s"]
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aftershock.core.errors import FormatError, HarnessError
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target

PLAN_FILE = "run.json"
Runner = Literal["aftershock run", "chaos run"]


class LoadSettings(BaseModel):
    """The load, the RPO ledger and the warm-up around the experiment.

    Example::

        LoadSettings(users=10, shape="spike", ledger=False)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(default=20, ge=1)
    spawn_rate: float | None = Field(default=None, gt=0)
    shape: Literal["steady", "step", "spike"] = "steady"
    load_duration_s: float = Field(default=600.0, gt=0)
    """Upper bound of the load run; the session stops it earlier, after the rollbacks."""
    workers: int = Field(default=0, ge=0)
    ledger: bool = True
    ledger_rate: float = Field(default=25.0, gt=0)
    store_ledgers: tuple[Literal["dynamodb", "s3"], ...] = ()
    """Store ledgers to run (the target's ``data_stores``): numbered DynamoDB items / S3 objects."""
    store_ledger_rate: float = Field(default=10.0, gt=0, le=200)
    warmup_s: float = Field(default=2.0, ge=0)
    soak_s: float = Field(default=0.0, ge=0)
    """``--soak``: load and ledger run this long after the warm-up before the hypothesis and the faults (a leak,
    a filling pool or a growing lag shows up first); the load's upper bound grows by as much."""
    locustfile: str | None = None
    """The user's locustfile (absolute, checked); None: the built-in shop journeys."""
    task_rate: float = Field(default=2.0, ge=0)
    """Pacing of the built-in journeys: tasks per second per user (0: as fast as possible)."""
    connect_timeout_s: float = Field(default=2.0, gt=0)
    response_timeout_s: float = Field(default=5.0, gt=0)
    remote_workers: int = Field(default=0, ge=0)
    """Locust workers started elsewhere that the master waits for before the warm-up."""
    master_bind_host: str = "127.0.0.1"
    """Interface the master listens on for workers (0.0.0.0 for remote workers)."""
    master_port: int | None = Field(default=None, ge=1, le=65535)
    """Port the master listens on (default: a free one, announced in the ``load.started`` marker)."""
    worker_grace_s: float = Field(default=60.0, gt=0)
    """How long the master waits for every worker to connect."""


class RunPlan(BaseModel):
    """What one run is: written once into ``run.json`` when the run starts (``ended_at`` when it ends)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    experiment: str
    """The experiment file (or its title, under plain ``chaos run``)."""
    title: str = ""
    scenario: str
    disruption: str = "application"
    judge: tuple[str, ...] = ()
    """The objectives judged; empty: every resolved objective."""
    target: str
    """The target's name."""
    target_ref: str = "lab"
    """What the target was given as: ``lab`` or a file."""
    snapshot: Target
    """The parsed target at the start of the run (no secrets)."""
    objectives: dict[str, float] = Field(default_factory=dict)
    load: LoadSettings = Field(default_factory=LoadSettings)
    slow_ms: float = Field(default=1000.0, gt=0)
    """A success slower than this is bad for outages and the RTO (the experiment's ``aftershock_slow_ms``, else
    the target's ``slow_ms``); the load's timeline records such requests as slow."""
    runner: Runner = "aftershock run"
    dry_run: bool = False
    """Only plan: the faults' drivers list every call they would make and change nothing (``--dry-run``)."""
    started_at: float = 0.0
    ended_at: float | None = None

    @property
    def judged(self) -> tuple[str, ...]:
        return self.judge or tuple(self.objectives)


def write_plan(run: RunFolder, plan: RunPlan) -> None:
    """Write ``plan`` as the run's ``run.json`` (atomically)."""
    run.write_json(PLAN_FILE, plan.model_dump(mode="json"))


def has_plan(run: RunFolder) -> bool:
    return run.file(PLAN_FILE).exists()


def read_plan(run: RunFolder) -> RunPlan:
    """The run's plan; a missing or foreign ``run.json`` is a :class:`HarnessError` naming the file."""
    path = run.file(PLAN_FILE)
    if not path.exists():
        raise HarnessError(f"{run.path} has no run.json: start the run with `aftershock run` or declare the "
                           "aftershock control in the experiment", path=str(path))
    try:
        return RunPlan.model_validate(run.read_json(PLAN_FILE))
    except (ValueError, ValidationError) as exc:
        raise FormatError(f"{path} is not a run plan aftershock writes ({_first(exc)}): start a new run",
                          path=str(path)) from exc


def mark_ended(run: RunFolder, at: float | None = None) -> None:
    """Record when the run ended (once)."""
    plan = read_plan(run)
    if plan.ended_at is None:
        write_plan(run, plan.model_copy(update={"ended_at": time.time() if at is None else at}))


def _first(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class RunInfo(BaseModel):
    """What a report needs of ``run.json``, read leniently: old and partial run folders load too."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    experiment: str = ""
    title: str = ""
    scenario: str = ""
    target: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    objectives: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunInfo:
        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        def number(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        objectives = data.get("objectives")
        return cls(experiment=text("experiment"), title=text("title"), scenario=text("scenario"),
                   target=text("target"), started_at=number("started_at"), ended_at=number("ended_at"),
                   objectives={str(k): float(v) for k, v in (objectives or {}).items()
                               if isinstance(v, int | float) and not isinstance(v, bool)}
                   if isinstance(objectives, Mapping) else {})


__all__ = ["PLAN_FILE", "LoadSettings", "RunInfo", "RunPlan", "has_plan", "mark_ended", "read_plan", "write_plan"]
