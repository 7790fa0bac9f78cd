"""What happened on the day: ``gameday.json`` in the game-day folder, rewritten after every change.

    <gameday folder>/
        gameday.json        this record: the plan, each step's decision, run folder, outcome and abort
        gameday.html/.md    the game-day report (:mod:`aftershock.gameday.report`)
        experiments/        copies of experiments with per-step objective overrides
        steps/<run folder>  each step's run folder (``aftershock run --out steps``)
        logs/step-N.log     each step's ``aftershock run`` output

Step status: ``pending`` (not reached), ``running``, ``skipped`` (by the operator), ``not run`` (the day was
stopped before it), ``passed`` / ``failed`` (objectives met or not, from the run's summary), ``aborted`` (abort
key, Ctrl-C or SIGTERM during the step), ``error`` (the run could not start or crashed).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Status = Literal["pending", "running", "skipped", "not run", "passed", "failed", "aborted", "error"]
RECORD = "gameday.json"


@dataclass(frozen=True)
class Abort:
    """An abort of a running step: when, by what (``abort key``, ``Ctrl-C``, ``SIGTERM``) and what became of it."""

    at: float
    by: str
    rolled_back: bool | None = None
    outstanding: tuple[str, ...] = ()
    killed: bool = False

    def describe(self) -> str:
        when = time.strftime("%H:%M:%S UTC", time.gmtime(self.at))
        if self.killed:
            after = "the run had to be killed; run `aftershock recover` on its run folder"
        elif self.rolled_back:
            after = "fault rolled back"
        elif self.rolled_back is None:
            after = "rollback not confirmed"
        else:
            after = f"fault NOT rolled back ({', '.join(self.outstanding)}): run `aftershock recover` on its run folder"
        return f"aborted by operator ({self.by}) at {when}, {after}"


@dataclass(frozen=True)
class StepRecord:
    index: int
    experiment: str
    title: str
    notes: str = ""
    target: str = "lab"
    status: Status = "pending"
    run_folder: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    abort: Abort | None = None
    error: str | None = None


@dataclass(frozen=True)
class GameDayRecord:
    title: str
    plan: str
    notes: str
    started_at: float
    steps: tuple[StepRecord, ...]
    ended_at: float | None = None
    stopped: bool = False
    unattended: bool = False

    def with_step(self, step: StepRecord) -> GameDayRecord:
        return replace(self, steps=tuple(step if s.index == step.index else s for s in self.steps))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GameDayRecord:
        steps = []
        for raw in data.get("steps", []):
            step = dict(raw)
            abort = step.pop("abort", None)
            if abort is not None:
                abort = Abort(**{**abort, "outstanding": tuple(abort.get("outstanding", ()))})
            steps.append(StepRecord(**step, abort=abort))
        fields = {k: v for k, v in data.items() if k != "steps"}
        return cls(**fields, steps=tuple(steps))


@dataclass
class GameDayFolder:
    """The folder of one game day and its record (written atomically on every :meth:`save`)."""

    path: Path
    record: GameDayRecord = field(repr=False)

    @property
    def steps_dir(self) -> Path:
        return self.path / "steps"

    def save(self, record: GameDayRecord | None = None) -> None:
        if record is not None:
            self.record = record
        tmp = self.path / f".{RECORD}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.record.to_json(), indent=2))
        tmp.replace(self.path / RECORD)

    def update(self, step: StepRecord) -> None:
        self.save(self.record.with_step(step))


def read_record(folder: Path) -> GameDayRecord:
    data: dict[str, Any] = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    return GameDayRecord.from_json(data)
