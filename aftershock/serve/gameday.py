"""A game day driven from the web console: the operator's decisions come from buttons, not a terminal.

:class:`ConsoleOperator` is an :class:`~aftershock.gameday.operator.Operator` whose ``decide`` and
``continue_after_abort`` wait for the answer posted by a browser, and whose :meth:`ConsoleOperator.abort_requested`
feeds the abort button into the game day's own :class:`~aftershock.gameday.child.AbortSwitch`: the abort takes the
terminal's path (one SIGINT to the step's run, which rolls the fault back; recorded in ``gameday.json``).
:class:`DayControl` runs one :class:`~aftershock.gameday.runner.GameDay` at a time in a thread, under the targets'
locks like ``aftershock gameday``; ``aftershock watch <game-day folder>`` shows the same day in a terminal.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from rich.console import Console

from aftershock.core.errors import AftershockError, UsageError
from aftershock.core.target import load_target
from aftershock.gameday.operator import Decision
from aftershock.gameday.plan import load_plan
from aftershock.gameday.record import read_record
from aftershock.gameday.runner import GameDay
from aftershock.locking import holding, new_run_id

ABORT_BY = "console abort button"
STOP_BY = "console stop-the-day button"
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Question:
    """What the day waits for: ``decide`` (go / skip / stop before a step) or ``continue`` (after an abort)."""

    kind: str
    label: str


class ConsoleOperator:
    """Decisions from the console; thread-safe. :meth:`close` and :meth:`stop_day` answer every open and later
    question with stop (and no more steps after an abort)."""

    unattended = False

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.question: Question | None = None
        self._answer: str | None = None
        self._aborts: list[str] = []
        self.closed = False
        self.stopping = False

    def _ask(self, question: Question) -> str | None:
        with self._cond:
            self.question, self._answer = question, None
            while self._answer is None and not self.closed and not self.stopping:
                self._cond.wait(0.5)
            answer, self.question = self._answer, None
            return answer

    def decide(self, step_label: str) -> Decision:
        answer = self._ask(Question("decide", step_label))
        return "go" if answer == "go" else "skip" if answer == "skip" else "stop"

    def continue_after_abort(self) -> bool:
        return self._ask(Question("continue", "the step was aborted; continue with the next step?")) == "yes"

    def answer(self, value: str) -> bool:
        """Answer the open question (go / skip / stop, or yes / no); False when nothing waits for that answer."""
        with self._cond:
            expected = {"decide": ("go", "skip", "stop"), "continue": ("yes", "no")}
            if self.question is None or value not in expected[self.question.kind]:
                return False
            self._answer = value
            self._cond.notify_all()
            return True

    def abort(self, by: str = ABORT_BY) -> None:
        with self._cond:
            self._aborts.append(by)

    def stop_day(self, *, step_running: bool, by: str = STOP_BY) -> None:
        """End the day: abort the running step (it rolls back, the abort is recorded) and run no further step."""
        with self._cond:
            self.stopping = True
            if step_running:
                self._aborts.append(by)
            self._cond.notify_all()

    def abort_requested(self) -> str | None:
        """The oldest abort request not yet taken (polled by the game day's abort switch)."""
        with self._cond:
            return self._aborts.pop(0) if self._aborts else None

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class DayControl:
    """At most one game day at a time, run in a thread of the console."""

    def __init__(self, out: Path, *, log: Path | None = None) -> None:
        self.out = out
        self.log = log
        self.operator: ConsoleOperator | None = None
        self.day: GameDay | None = None
        self.error: str | None = None
        self.exit_code: int | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def step_running(self) -> bool:
        """True while a step of the day runs (its ``gameday.json`` says so)."""
        return self.day is not None and self.running and any(
            s.status == "running" for s in read_record(self.day.folder.path).steps)

    def start(self, plan_file: Path) -> GameDay:
        """Validate ``plan_file`` and begin its day (the first step then waits for go / skip / stop).
        :class:`UsageError` when a day runs already or the plan is invalid (nothing started then)."""
        if self.running:
            raise UsageError("a game day is already running in this console: finish or stop it first")
        plan = load_plan(plan_file)
        targets = [load_target(plan.step_target(step)) for step in plan.steps]
        operator = ConsoleOperator()
        begun = threading.Event()
        self.operator, self.day, self.error, self.exit_code = operator, None, None, None

        def run() -> None:
            sink = self._log_file()
            console = Console(file=sink, width=120, force_terminal=False)
            run_id = new_run_id(f"gameday-{plan.title}")
            try:
                with holding(targets, run_id=run_id, warn=lambda text: console.print(text)):
                    self.day = GameDay.begin(plan, out=self.out, operator=operator, console=console,
                                             stdin=io.StringIO(), lock_id=run_id)
                    begun.set()
                    self.exit_code = self.day.run()
            except AftershockError as exc:
                self.error = str(exc)
            finally:
                operator.close()
                begun.set()
                sink.close()

        self._thread = threading.Thread(target=run, name="aftershock-console-gameday", daemon=True)
        self._thread.start()
        begun.wait(START_TIMEOUT_S)
        if self.day is None:
            raise UsageError(self.error or f"the game day of {plan_file} did not start within {START_TIMEOUT_S:.0f} s")
        return self.day

    def _log_file(self) -> IO[str]:
        if self.log is None:
            return io.StringIO()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        return open(self.log, "a", encoding="utf-8")  # closed when the day's thread ends

    def shutdown(self, *, wait_s: float = 600.0, join: Callable[[threading.Thread, float], None] | None = None) -> None:
        """The console stops: abort a running step (it rolls back), answer stop, wait for the day to end."""
        if self.operator is not None and self.running:
            self.operator.abort("console stopped")
            self.operator.close()
        if self._thread is not None:
            (join or threading.Thread.join)(self._thread, wait_s)


__all__ = ["ABORT_BY", "STOP_BY", "ConsoleOperator", "DayControl", "Question"]
