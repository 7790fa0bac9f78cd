"""A run folder loaded for reporting: :class:`ReportData`, typed and frozen, tolerant of partial folders.

A run killed mid-way may lack ``summary.json`` and ``journal.json`` (and even the timeline): every file is
optional here, what is missing is listed in :attr:`ReportData.problems`, and :attr:`ReportData.partial` is
true. Objectives then come from ``run.json``'s targets and the measurements recorded so far.

Example::

    data = load_report_data(Path("runs/20261121T122845Z-pod-kill"))
    data.verdict          # "PASSED", "FAILED" or "PARTIAL"
    [o.name for o in data.objectives if not o.met]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from aftershock.core.errors import FormatError
from aftershock.core.figures import Figures
from aftershock.core.kinds import FaultRole, MarkerKind
from aftershock.core.measurements import MarkerRecord, fault_role, read_markers, read_measurements
from aftershock.core.plan import RunInfo as PlanInfo
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import Sample, read_samples
from aftershock.core.timeline.store import Timeline, read_pieces, read_timeline
from aftershock.core.verdict import SUMMARY_FILE, read_summary
from aftershock.core.verdict import Verdict as Judged

Verdict = Literal["PASSED", "FAILED", "PARTIAL"]

@dataclass(frozen=True)
class Objective:
    """One objective judged: measured <= target is met; ``measured`` None means not measured (not met)."""

    name: str
    target: float
    measured: float | None
    met: bool
    unit: str

    @property
    def failure_message(self) -> str:
        if self.measured is None:
            return f"{self.name}: not measured (target <= {self.target:g} {self.unit})"
        return f"{self.name}: measured {self.measured:g} {self.unit} > target {self.target:g} {self.unit}"


@dataclass(frozen=True)
class Step:
    """One activity of the experiment: from the journal, or from the markers of a partial run."""

    phase: str
    """``hypothesis before``, ``method``, ``hypothesis after`` or ``rollbacks``."""
    name: str
    kind: str
    status: str
    start: float | None
    duration_s: float | None
    tolerance_met: bool | None = None


@dataclass(frozen=True)
class Marker:
    """A point in time worth drawing: a fault injected or ended, rollbacks started, a fault reverted."""

    ts: float
    kind: str
    label: str


@dataclass(frozen=True)
class OutageSpan:
    """An outage (epoch s): its bad requests, failed and slow, and the widths of its edges' intervals."""

    start: float
    end: float | None
    failures: int
    slow: int = 0
    start_error: float | None = None
    end_error: float | None = None


@dataclass(frozen=True)
class RunInfo:
    scenario: str
    title: str
    experiment: str
    target: str
    started_at: float | None
    ended_at: float | None
    targets: tuple[tuple[str, float], ...]
    """The objectives' targets written to ``run.json`` at the start of the run."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows about one run."""

    run_dir: Path
    run: RunInfo
    status: str
    deviated: bool
    passed: bool
    partial: bool
    disruption: str
    objectives: tuple[Objective, ...]
    figures: Mapping[str, Any]
    ledger: Mapping[str, Any]
    steps: tuple[Step, ...]
    hypothesis_before: bool | None
    hypothesis_after: bool | None
    markers: tuple[Marker, ...]
    outages: tuple[OutageSpan, ...]
    samples: tuple[Sample, ...]
    timeline: Timeline
    errors: tuple[str, ...]
    problems: tuple[str, ...]
    deviations: tuple[str, ...] = ()  # why the steady state deviated, one line per probe (summary.json)

    @property
    def verdict(self) -> Verdict:
        if self.partial:
            return "PARTIAL"
        return "PASSED" if self.passed else "FAILED"

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def missed(self) -> tuple[Objective, ...]:
        return tuple(o for o in self.objectives if not o.met)

    @property
    def headline(self) -> str:
        """One line: verdict, scenario, target and what went wrong."""
        text = f"{self.verdict}: {self.run.scenario} on {self.run.target}"
        reasons = [o.failure_message for o in self.missed]
        if self.deviated:
            reasons.append("steady state deviated")
        if self.partial:
            reasons.append("the run did not finish (partial run folder)")
        return text + (" - " + "; ".join(reasons) if reasons else "")


def _json(path: Path, problems: list[str]) -> dict[str, Any]:
    """A JSON object of the run folder through core's reader; {} and a problem when it is missing or bad."""
    try:
        return RunFolder(path.parent).read_object(path.name)
    except FileNotFoundError:
        problems.append(f"{path.name} is missing")
    except FormatError as exc:
        problems.append(str(exc))
    return {}


def _summary(run_dir: Path, problems: list[str]) -> dict[str, Any]:
    """``summary.json`` through core's reader (validated, typed), back in its flat form; {} when missing or bad."""
    if not (run_dir / SUMMARY_FILE).exists():
        problems.append(f"{SUMMARY_FILE} is missing")
        return {}
    try:
        summary = read_summary(RunFolder(run_dir))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        problems.append(f"{SUMMARY_FILE} is unreadable ({type(exc).__name__}: {exc})")
        return {}
    return summary.to_dict() if summary is not None else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _iso(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def _run_info(run: PlanInfo, summary: Mapping[str, Any], journal: Mapping[str, Any], name: str) -> RunInfo:
    experiment = journal.get("experiment") or {}
    scenario = str(summary.get("scenario") or run.scenario or experiment.get("title") or name)
    return RunInfo(
        scenario=scenario,
        title=str(run.title or experiment.get("title") or scenario),
        experiment=run.experiment,
        target=str(summary.get("target") or run.target or "unknown"),
        started_at=run.started_at,
        ended_at=run.ended_at,
        targets=tuple(run.objectives.items()),
    )


def _objectives(summary: Mapping[str, Any], info: RunInfo, figures: Mapping[str, Any]) -> tuple[Objective, ...]:
    listed = summary.get("objectives")
    if isinstance(listed, list):
        return tuple(
            Objective(str(o["name"]), float(o["target"]), _float(o.get("measured")), bool(o.get("met")),
                      str(o.get("unit") or "s"))
            for o in listed if isinstance(o, dict) and "name" in o and "target" in o
        )
    judged = []
    for name, target in info.targets:
        verdict = Judged.judge(name, target, _float(figures.get(name)))  # the summary's units (users, ratio)
        judged.append(Objective(name, target, verdict.measured, verdict.met, verdict.unit))
    return tuple(judged)


def _measured_figures(run_dir: Path) -> dict[str, Any]:
    """Figures of a run without a summary: the last measurement of each kind."""
    return Figures.from_measurements(read_measurements(RunFolder(run_dir))).to_dict()


def _journal_steps(journal: Mapping[str, Any]) -> tuple[list[Step], bool | None, bool | None]:
    steps: list[Step] = []
    states = journal.get("steady_states") or {}
    met: dict[str, bool | None] = {}
    for when in ("before", "after"):
        state = states.get(when) or {}
        met[when] = state.get("steady_state_met") if isinstance(state, dict) and state else None
        for probe in (state.get("probes") or []) if isinstance(state, dict) else []:
            steps.append(_step(f"hypothesis {when}", probe))
        if when == "before":
            steps.extend(_step("method", run) for run in journal.get("run") or [])
    steps.extend(_step("rollbacks", run) for run in journal.get("rollbacks") or [])
    return steps, met["before"], met["after"]


def _step(phase: str, run: Mapping[str, Any]) -> Step:
    activity = run.get("activity") or {}
    tolerance = run.get("tolerance_met")
    return Step(phase=phase, name=str(activity.get("name") or "?"), kind=str(activity.get("type") or "?"),
                status=str(run.get("status") or "?"), start=_iso(run.get("start")),
                duration_s=_float(run.get("duration")),
                tolerance_met=tolerance if isinstance(tolerance, bool) else None)


def _marker_steps(markers: list[MarkerRecord]) -> tuple[list[Step], bool | None, bool | None]:
    """Steps of a run without a journal, from activity.start/end markers (an unfinished one is "running")."""
    steps: list[Step] = []
    phase = "method"
    open_steps: dict[str, tuple[str, float, str]] = {}
    met: list[bool | None] = []
    seen_method = False
    for record in markers:
        kind = record.kind
        ts = record.ts
        if kind is MarkerKind.HYPOTHESIS_START:
            phase = "hypothesis after" if seen_method else "hypothesis before"
        elif kind is MarkerKind.HYPOTHESIS_END:
            met.append(bool(record.get("met")))
        elif kind is MarkerKind.METHOD_START:
            phase, seen_method = "method", True
        elif kind is MarkerKind.ROLLBACKS_START:
            phase = "rollbacks"
        elif kind is MarkerKind.ACTIVITY_START:
            open_steps[str(record.get("name"))] = (phase, ts, str(record.get("type") or "?"))
        elif kind is MarkerKind.ACTIVITY_END:
            name = str(record.get("name"))
            start_phase, start, step_kind = open_steps.pop(name, (phase, ts, str(record.get("type") or "?")))
            steps.append(Step(start_phase, name, step_kind, str(record.get("status") or "?"), start, ts - start))
    for name, (start_phase, start, step_kind) in open_steps.items():
        steps.append(Step(start_phase, name, step_kind, "running (interrupted)", start, None))
    steps.sort(key=lambda s: s.start or 0.0)
    before = met[0] if met else None
    after = met[1] if len(met) > 1 else None
    return steps, before, after


_MARKER_LABELS = {MarkerKind.FAULT_START: "fault", MarkerKind.FAULT_END: "fault injected",
                  MarkerKind.ROLLBACKS_START: "rollbacks", MarkerKind.ROLLBACKS_END: "rolled back",
                  MarkerKind.FAULT_REVERTED: "reverted", MarkerKind.LOAD_WORKER_LOST: "worker lost"}


def _markers(records: list[MarkerRecord]) -> tuple[Marker, ...]:
    found = []
    for record in records:
        label = _MARKER_LABELS.get(MarkerKind(record.kind)) if record.kind in _MARKER_LABELS else None
        if label is not None:
            what = record.get("action") or record.get("worker") or ""
            if record.kind is MarkerKind.FAULT_START and fault_role(record) is FaultRole.REMEDIATION:
                label = "remediation"  # a phase boundary of the recovery, not a new fault
            found.append(Marker(record.ts, str(record.kind), f"{label} {what}".strip()))
    return tuple(found)


def _lost_workers(records: list[MarkerRecord], started_at: float | None) -> list[str]:
    """A Locust worker lost mid-run: the load dropped from then on (the run went on)."""
    lost = []
    for record in records:
        if record.kind is MarkerKind.LOAD_WORKER_LOST:
            at = _float(record.get("at")) or record.ts
            when = f"+{at - started_at:.1f} s" if started_at else "during the run"
            lost.append(f"Locust worker {record.get('worker') or '?'} was lost at {when}: its share of the load "
                        "dropped from then on")
    return lost


def _outages(figures: Mapping[str, Any]) -> tuple[OutageSpan, ...]:
    spans = []
    for outage in figures.get("outages") or []:
        if isinstance(outage, dict) and _float(outage.get("start")) is not None:
            failures = int(outage.get("failures") or 0)
            spans.append(OutageSpan(float(outage["start"]), _float(outage.get("end")), failures,
                                    int(outage.get("slow") or 0), _float(outage.get("start_error")),
                                    _float(outage.get("end_error"))))
    return tuple(spans)


def _samples(run_dir: Path) -> tuple[Sample, ...]:
    """The observations with figures (failed observations carry none to chart)."""
    return tuple(s for s in read_samples(RunFolder(run_dir)) if s.error is None)


def _timeline(run_dir: Path, problems: list[str]) -> Timeline:
    try:
        timeline = read_timeline(run_dir)
    except FileNotFoundError:
        pieces = []
        for file in sorted(run_dir.glob("timeline*.jsonl")):
            if file.exists():  # a dangling symlink to a side timeline is skipped
                pieces.extend(read_pieces(file)[0])
            else:
                problems.append(f"{file.name} points to a missing file")
        if not pieces:
            problems.append("timeline.jsonl is missing: no traffic to chart")
        return Timeline.from_pieces(pieces)
    if timeline.skipped_lines:
        problems.append(f"timeline: {timeline.skipped_lines} unreadable line(s) skipped")
    return timeline


def load_report_data(run_dir: Path) -> ReportData:
    """Load a run folder (complete or partial) for the reports."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist: pass a folder under runs/")
    problems: list[str] = []
    run = PlanInfo.from_dict(_json(run_dir / "run.json", problems))
    summary = _summary(run_dir, problems)
    journal = _json(run_dir / "journal.json", problems)
    info = _run_info(run, summary, journal, run_dir.name)
    figures: Mapping[str, Any] = summary.get("figures") or _measured_figures(run_dir)
    markers = read_markers(RunFolder(run_dir))
    problems.extend(_lost_workers(markers, run.started_at))
    if journal:
        steps, before, after = _journal_steps(journal)
    else:
        steps, before, after = _marker_steps(markers)
    partial = not summary or not journal or bool(summary.get("partial"))
    status = str(journal.get("status") or summary.get("status") or "interrupted")
    ledger = figures.get("ledger")
    return ReportData(
        run_dir=run_dir,
        run=info,
        status=status,
        deviated=bool(journal.get("deviated", summary.get("deviated", False))),
        passed=bool(summary.get("passed", False)) and not partial,
        partial=partial,
        disruption=str(summary.get("disruption") or "unknown"),
        objectives=_objectives(summary, info, figures),
        figures=figures,
        ledger=ledger if isinstance(ledger, dict) else {},
        steps=tuple(steps),
        hypothesis_before=before,
        hypothesis_after=after,
        markers=_markers(markers),
        outages=_outages(figures),
        samples=_samples(run_dir),
        timeline=_timeline(run_dir, problems),
        errors=tuple(str(e) for e in summary.get("errors") or ()),
        problems=tuple(problems),
        deviations=tuple(str(d) for d in summary.get("deviations") or ()),
    )


__all__ = ["Marker", "Objective", "OutageSpan", "ReportData", "RunInfo", "Sample", "Step", "Verdict",
           "load_report_data"]
