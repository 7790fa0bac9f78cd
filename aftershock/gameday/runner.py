"""The game day, step by step: validate every step up front, then for each one show what will be done and ask
go / skip / stop, run it as a child ``aftershock run`` under the live dashboard (abort key and Ctrl-C roll it
back at once), record the outcome in ``gameday.json`` and rewrite the game-day report.

Example::

    plan = load_plan(Path("experiments/gamedays/example.yaml"))
    day = GameDay.begin(plan, out=Path("runs"), operator=Unattended(), console=Console())
    exit_code = day.run()        # 0: every step that ran passed; 1: a step failed, was aborted or errored
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from aftershock.core.errors import AftershockError
from aftershock.core.runfolder import RunFolder
from aftershock.gameday.child import AbortSwitch, StepProcess
from aftershock.gameday.dashboard import render
from aftershock.gameday.operator import Operator
from aftershock.gameday.overrides import with_objectives
from aftershock.gameday.plan import Plan, Step
from aftershock.gameday.record import Abort, GameDayFolder, GameDayRecord, StepRecord
from aftershock.gameday.report import step_view, write_gameday_report
from aftershock.gameday.snapshot import RunWatcher, fault_in_progress
from aftershock.load.config import parse_duration
from aftershock.runner import RunOptions, describe, prepare

ABORT_HINT = "press [a] to abort the step (Ctrl-C too): the fault is rolled back at once"
FAILED = ("failed", "aborted", "error")
INJECTION_GRACE_S = 10.0


@dataclass(frozen=True)
class PreparedStep:
    """A validated step: its plan lines (what ``aftershock run --dry-run`` prints) and the child's argv."""

    index: int
    step: Step
    title: str
    target: str
    experiment_path: Path
    plan_lines: tuple[str, ...]
    argv: tuple[str, ...]


RemoteWorkers = tuple[int | None, str | None, int | None]
"""``--remote-workers``, ``--master-bind``, ``--master-port`` of ``aftershock gameday`` (None: not given)."""


def prepare_step(plan: Plan, index: int, folder: GameDayFolder,
                 remote: RemoteWorkers = (None, None, None), lock_id: str | None = None) -> PreparedStep:
    """Validate ``plan.steps[index - 1]`` (experiment, target, objectives, load options); change nothing."""
    step = plan.steps[index - 1]
    source = plan.experiment_path(step)
    path = source.resolve()
    if step.objectives:
        path = with_objectives(source, step.objectives, folder.path / "experiments",
                               name=f"step-{index}-{source.name}").resolve()
    target = plan.step_target(step)
    locustfile = plan.locustfile_path(step)
    options = RunOptions(target=target, users=step.users, shape=step.shape, out=folder.steps_dir,
                         load_duration_s=parse_duration(step.duration) if step.duration else None,
                         locustfile=locustfile, remote_workers=remote[0], master_bind_host=remote[1],
                         master_port=remote[2])
    lines = tuple(describe(prepare(path, options)))
    argv = [sys.executable, "-m", "aftershock", "run", str(path), "--target", target, "--out", str(folder.steps_dir)]
    for flag, value in (("--users", step.users), ("--duration", step.duration), ("--shape", step.shape),
                        ("--locustfile", locustfile), ("--remote-workers", remote[0]), ("--master-bind", remote[1]),
                        ("--master-port", remote[2]), ("--under-lock", lock_id)):
        if value is not None:
            argv += [flag, str(value)]
    return PreparedStep(index, step, step.title or source.stem, target, path, lines, tuple(argv))


def _log_tail(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return lines[-1][:300] if lines else "no output"


class GameDay:
    """Runs the steps of a plan, one child ``aftershock run`` at a time."""

    def __init__(self, plan: Plan, folder: GameDayFolder, steps: list[PreparedStep], *, operator: Operator,
                 console: Console, stdin: IO[Any] | None = None, interval_s: float = 0.25) -> None:
        self.plan = plan
        self.folder = folder
        self.steps = steps
        self.operator = operator
        self.console = console
        self.stdin = stdin if stdin is not None else sys.stdin
        self.interval_s = interval_s
        self._stop_requested = False

    def __repr__(self) -> str:
        return f"GameDay(plan={str(self.plan.path)!r}, folder={str(self.folder.path)!r})"

    @classmethod
    def begin(cls, plan: Plan, *, out: Path, operator: Operator, console: Console,
              stdin: IO[Any] | None = None, remote: RemoteWorkers = (None, None, None),
              lock_id: str | None = None) -> GameDay:
        """Create the game-day folder under ``out`` and validate every step (the folder is removed again when a
        step is invalid, and the error raised). ``lock_id``: the run id under which the day holds its targets'
        locks; each step runs under it."""
        run = RunFolder.create(out, f"gameday-{plan.title}")
        records = tuple(StepRecord(index=i, experiment=s.experiment, title=s.title or Path(s.experiment).stem,
                                   notes=s.notes, target=plan.step_target(s)) for i, s in enumerate(plan.steps, 1))
        record = GameDayRecord(title=plan.title, plan=str(plan.path), notes=plan.notes, started_at=time.time(),
                               steps=records, unattended=operator.unattended)
        folder = GameDayFolder(run.path.resolve(), record)
        folder.steps_dir.mkdir()
        try:
            steps = [prepare_step(plan, i, folder, remote, lock_id) for i in range(1, len(plan.steps) + 1)]
        except AftershockError:
            import shutil

            shutil.rmtree(folder.path, ignore_errors=True)
            raise
        folder.save()
        return cls(plan, folder, steps, operator=operator, console=console, stdin=stdin)

    # -- the day ---------------------------------------------------------------------------------------------

    def run(self) -> int:
        console = self.console
        console.rule(f"[bold]game day: {escape(self.plan.title)}")
        if self.plan.notes:
            console.print(Text(self.plan.notes.strip()), style="italic")
        console.print(f"game-day folder: {self.folder.path}", highlight=False, soft_wrap=True)
        try:
            for prepared in self.steps:
                if not self._step(prepared):
                    self._stop_after(prepared.index)
                    break
        except KeyboardInterrupt:
            console.print("[bold]stopped[/] (Ctrl-C between steps)")
            self._stop_after(self._current_index())
        self.folder.save(replace(self.folder.record, ended_at=time.time()))
        html, md = write_gameday_report(self.folder.path)
        self._print_day()
        console.print(f"game-day report: {html}\n                 {md}", highlight=False, soft_wrap=True)
        failed = [s for s in self.folder.record.steps if s.status in FAILED]
        return 1 if failed else 0

    def _current_index(self) -> int:
        running = [s.index for s in self.folder.record.steps if s.status in ("pending", "running")]
        return running[0] - 1 if running else len(self.steps)

    def _stop_after(self, index: int) -> None:
        record = self.folder.record
        steps = tuple(replace(s, status="not run") if s.index > index and s.status == "pending" else s
                      for s in record.steps)
        self.folder.save(replace(record, steps=steps, stopped=True))
        write_gameday_report(self.folder.path)

    def _record(self, index: int) -> StepRecord:
        return next(s for s in self.folder.record.steps if s.index == index)

    def _step(self, prepared: PreparedStep) -> bool:
        """Announce, ask, run one step; False when the day stops here."""
        console = self.console
        console.rule(f"[bold]step {prepared.index}/{len(self.steps)}: {escape(prepared.title)}")
        if prepared.step.notes:
            console.print(Text("notes for the room: ", style="bold").append(prepared.step.notes.strip()))
        console.print("[bold]what will be done:[/]")
        for line in prepared.plan_lines[:-1]:  # the last line says "dry run: nothing was injected"
            console.print(f"  {escape(line)}", highlight=False)
        decision = self.operator.decide(f"step {prepared.index} ({prepared.title})")
        if decision == "stop":
            self.folder.update(replace(self._record(prepared.index), status="not run"))
            console.print("[bold]stopping the day here[/]")
            return False
        if decision == "skip":
            self.folder.update(replace(self._record(prepared.index), status="skipped"))
            write_gameday_report(self.folder.path)
            console.print("[yellow]skipped[/]")
            return True
        result = self._execute(prepared)
        self.folder.update(result)
        write_gameday_report(self.folder.path)
        self._print_step(result)
        last = prepared.index == len(self.steps)
        if result.status == "aborted" and not last and (self._stop_requested
                                                        or not self.operator.continue_after_abort()):
            return False
        return not self._stop_requested

    # -- one step under the dashboard ------------------------------------------------------------------------

    def _execute(self, prepared: PreparedStep) -> StepRecord:
        record = replace(self._record(prepared.index), status="running", started_at=time.time())
        self.folder.update(record)
        before = set(self.folder.steps_dir.iterdir())
        log = self.folder.path / "logs" / f"step-{prepared.index}.log"
        env = {**os.environ, "COLUMNS": "120", "PYTHONUNBUFFERED": "1"}
        watcher: RunWatcher | None = None
        abort: Abort | None = None
        title = f"step {prepared.index}/{len(self.steps)}: {prepared.title}"
        external = getattr(self.operator, "abort_requested", None)  # the web console's abort button
        with AbortSwitch(self.stdin, external) as switch, StepProcess.start(list(prepared.argv), log, env) as child, \
                Live(console=self.console, auto_refresh=False, transient=False) as live:
            while child.poll() is None:
                reason = switch.poll(self.interval_s)
                watcher = watcher or self._watcher(before)
                if reason is not None:
                    abort = self._request_abort(child, reason, abort, record, live)
                if abort is not None and child.aborted_at is None:
                    self._send_abort(child, abort, watcher, live)
                note = child.escalate()
                if note:
                    live.console.print(f"[bold red]{note}[/]")
                live.update(self._frame(watcher, title, prepared.index), refresh=True)
            watcher = watcher or self._watcher(before)
            live.update(self._frame(watcher, title, prepared.index, final=True), refresh=True)
        code = child.proc.returncode
        run = watcher.run if watcher else None
        record = replace(record, ended_at=time.time(), exit_code=code,
                         run_folder=str(run.path.relative_to(self.folder.path)) if run else None)
        if abort is not None:
            return replace(record, status="aborted", abort=self._after_abort(abort, run, child, prepared))
        if code == 0:
            return replace(record, status="passed")
        if code == 1 and run is not None and run.file("summary.json").exists():
            return replace(record, status="failed")
        return replace(record, status="error", error=f"aftershock run exited with {code}: {_log_tail(log)}")

    def _request_abort(self, child: StepProcess, reason: str, abort: Abort | None, record: StepRecord,
                       live: Live) -> Abort:
        if reason == "SIGTERM":
            self._stop_requested = True
        if abort is None:
            abort = Abort(at=time.time(), by=reason)
            self.folder.update(replace(record, status="aborted", abort=abort))
            live.console.print(f"[bold magenta]ABORT ({reason})[/]: rolling the fault back at once", highlight=False)
        else:
            live.console.print("[bold magenta]still rolling back[/]: waiting for the run to finish its rollback "
                               "(it is never left half-done)", highlight=False)
        return abort

    @staticmethod
    def _send_abort(child: StepProcess, abort: Abort, watcher: RunWatcher | None, live: Live) -> None:
        """SIGINT the run now, unless it is in the middle of injecting a fault: an injection cut short is neither
        journaled nor reverted, so the signal waits (at most :data:`INJECTION_GRACE_S`) for it to complete."""
        injecting = watcher is not None and fault_in_progress(list(watcher.run.records("markers.jsonl")))
        if injecting and time.time() - abort.at < INJECTION_GRACE_S:
            return
        if child.abort():
            live.console.print("SIGINT sent to the run: its rollbacks revert the fault", highlight=False)

    def _after_abort(self, abort: Abort, run: RunFolder | None, child: StepProcess, prepared: PreparedStep) -> Abort:
        from aftershock.core.journal import outstanding

        if run is None:
            return replace(abort, rolled_back=True, killed=child.killed)
        pending = outstanding(run)
        if child.killed:  # the run never finished itself: revert its faults, write its summary and reports here
            from aftershock.finish import finish_run

            if pending:
                self.console.print("[bold red]the run was killed: reverting its faults here[/]")
            finish_run(run, by="gameday")
            pending = outstanding(run)
        return replace(abort, rolled_back=not pending, outstanding=tuple(f.description for f in pending),
                       killed=child.killed)

    def _watcher(self, before: set[Path]) -> RunWatcher | None:
        new = [p for p in self.folder.steps_dir.iterdir() if p not in before and (p / "run.json").exists()]
        return RunWatcher(RunFolder(new[0])) if new else None

    def _frame(self, watcher: RunWatcher | None, title: str, index: int, *, final: bool = False) -> RenderableType:
        hint = None if final else ABORT_HINT
        if watcher is None:
            return Group(Text(f"{title}: starting aftershock run ...", style="bold"), Text(hint or ""))
        notes = self._record(index).notes.strip()
        frame = render(watcher.snapshot(), title=title, hint=hint)
        return Group(frame, Text(f"notes: {notes}", style="italic")) if notes and not final else frame

    # -- printing --------------------------------------------------------------------------------------------

    def _print_step(self, step: StepRecord) -> None:
        view = step_view(self.folder.path, step)
        style = {"passed": "bold green", "skipped": "yellow"}.get(step.status, "bold red")
        self.console.print(Text(f"step {step.index}: {step.status.upper()}", style=style)
                           .append(f": {view.outcome}", style=""))
        if view.objectives:
            table = Table(title=f"step {step.index} objectives")
            for col in ("objective", "target", "measured", "met"):
                table.add_column(col)
            for row in view.objectives:
                table.add_row(*row.cells())
            self.console.print(table)
        if view.report:
            self.console.print(f"run report: {self.folder.path / view.report}", highlight=False, soft_wrap=True)

    def _print_day(self) -> None:
        table = Table(title=f"game day: {self.plan.title}")
        for col in ("step", "experiment", "status", "outcome"):
            table.add_column(col)
        for step in self.folder.record.steps:
            table.add_row(f"{step.index}. {step.title}", step.experiment, step.status,
                          step_view(self.folder.path, step).outcome)
        self.console.print(table)
