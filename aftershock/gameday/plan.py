"""The game-day plan (``PLAN.yaml``): a title, notes for the people in the room and the steps to run.

Example::

    title: Chaos day, November
    target: lab                      # default for every step
    notes: Everyone on the bridge; the shop team watches the dashboard.
    steps:
      - experiment: pod-kill         # a name from experiments/ or a path (relative to the plan)
        notes: Half of the pods die; the ALB must stop sending to them.
        users: 10
        locustfile: journeys/mine.py  # your own Locust journeys for this step (relative to the plan)
      - experiment: az-outage
        title: Lose the writer's AZ
        objectives: {rto_s: 20}      # overrides the experiment's objectives for this step

    plan = load_plan(Path("PLAN.yaml"))
    plan.steps[1].objectives  # {"rto_s": 20.0}

Every error is one line naming the file and the field (``PLAN.yaml: steps[1].users: ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aftershock.bundled import bundled_names, resolve_experiment
from aftershock.core.errors import UsageError
from aftershock.load.config import parse_duration
from aftershock.objectives import DISRUPTIONS, KNOWN

_EXAMPLE = "see experiments/gamedays/example.yaml"


class Step(BaseModel):
    """One experiment of the day, with its overrides of the plan's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiment: str = Field(min_length=1)
    title: str | None = None
    notes: str = ""
    target: str | None = None
    users: int | None = Field(default=None, ge=1)
    duration: str | None = None
    shape: Literal["steady", "step", "spike"] | None = None
    locustfile: str | None = None
    """The step's own Locust journeys (relative to the plan's folder), like ``aftershock run --locustfile``."""
    objectives: dict[str, float] = Field(default_factory=dict)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value, flag="duration")
            except UsageError as exc:
                raise ValueError(str(exc).removeprefix("duration ")) from None
        return value

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, value: dict[str, float]) -> dict[str, float]:
        for key, target in value.items():
            scope, _, name = key.rpartition(".")
            if (scope and scope not in DISRUPTIONS) or name not in KNOWN:
                raise ValueError(f"unknown objective {key!r}; use one of {', '.join(sorted(KNOWN))}")
            if target < 0:
                raise ValueError(f"objective {key!r} must be 0 or more")
        return value


class Plan(BaseModel):
    """The whole day. ``path`` is the plan file (experiments are resolved relative to its folder)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    target: str = "lab"
    notes: str = ""
    steps: list[Step] = Field(min_length=1)
    path: Path = Path("PLAN.yaml")

    def step_target(self, step: Step) -> str:
        return step.target or self.target

    def locustfile_path(self, step: Step) -> Path | None:
        """The step's ``locustfile``, relative to the plan's folder (None: the experiment's or target's)."""
        return None if step.locustfile is None else (self.path.parent / Path(step.locustfile).expanduser()).absolute()

    def experiment_path(self, step: Step) -> Path:
        """The experiment file of ``step``: a path (relative to the plan's folder, then the working directory)
        or a name from ``experiments/``."""
        return resolve_experiment(step.experiment, self.path.parent)



def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _message(error: Any) -> str:
    """A pydantic error as a short phrase with its fix."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    messages = {
        "extra_forbidden": f"unknown field; check the spelling ({_EXAMPLE})",
        "missing": f"is required ({_EXAMPLE})",
        "too_short": "needs at least one step",
        "string_too_short": "must not be empty",
        "greater_than_equal": f"{value!r} is too small: use at least {ctx.get('ge')}",
        "literal_error": f"{value!r} is unknown: use one of {str(ctx.get('expected', '')).replace(' or ', ', ')}",
        "int_parsing": f"{value!r} is not a whole number",
        "int_from_float": f"{value!r} is not a whole number",
        "float_parsing": f"{value!r} is not a number: give seconds (or writes) as a plain number",
        "list_type": f"must be a list of steps ({_EXAMPLE})",
        "string_type": f"{value!r} must be text",
        "dict_type": "must be a mapping such as {rto_s: 20}",
        "model_type": f"must be a mapping with an experiment ({_EXAMPLE})",
    }
    if kind in messages:
        return messages[kind]
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[0].lower() + message[1:] if message else message


def parse_plan(data: Any, path: Path) -> Plan:
    """Validate the loaded YAML of ``path``; :class:`UsageError` naming the file and the field otherwise."""
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a plan must be a mapping with title and steps ({_EXAMPLE})")
    if "path" in data:
        raise UsageError(f"{path}: path: unknown field; check the spelling ({_EXAMPLE})")
    try:
        plan = Plan.model_validate({**data, "path": path})
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt field explains a missing one: report it first
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise UsageError(f"{path}: {_location(first['loc'])}: {_message(first)}") from None
    for index, step in enumerate(plan.steps):
        if not plan.experiment_path(step).is_file():
            names = ", ".join(bundled_names())
            raise UsageError(f"{path}: steps[{index}].experiment: no experiment {step.experiment!r}: use a file "
                             f"path or one of {names}")
    return plan


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"plan file {str(path)!r} does not exist: pass a PLAN.yaml ({_EXAMPLE})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise UsageError(f"{path}: not valid YAML{line}: fix the syntax") from None
    return parse_plan(data, path)
