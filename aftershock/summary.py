"""The run summary (``summary.json``): the figures, each objective judged, and the verdict.

Figures come only from measurement (``measurements.jsonl``, typed in :mod:`aftershock.core.measurements`): RTO
from the recovery probe (the traffic), RPO and lost/in-doubt writes from reading the ledger back once (by the
RPO probe, else here at the end of the run), scaling times from the autoscaling probe. The plan (``run.json``)
says which objectives are judged and their targets. A figure that
was not measured is ``null`` and its objective is not met.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aftershock.core.figures import Figures
from aftershock.core.kinds import MarkerKind
from aftershock.core.measurements import read_markers, read_measurements
from aftershock.core.plan import RunPlan, read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.summary import summarize
from aftershock.objectives import Verdict
from aftershock.probes.live import timeline_now

SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Summary:
    """The verdict of one run: its figures, each judged objective and why it passed or not."""

    scenario: str
    disruption: str
    target: str
    status: str
    deviated: bool
    passed: bool
    partial: bool
    figures: Figures
    objectives: list[Verdict]
    errors: list[str] = field(default_factory=list)
    written_at: float = field(default_factory=time.time)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` format."""
        return {"scenario": self.scenario, "disruption": self.disruption, "target": self.target,
                "status": self.status, "deviated": self.deviated, "passed": self.passed, "partial": self.partial,
                "figures": self.figures.to_dict(), "objectives": [asdict(v) for v in self.objectives],
                "errors": list(self.errors), "written_at": self.written_at, "exit_code": self.exit_code}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        return cls(scenario=str(data.get("scenario") or ""), disruption=str(data.get("disruption") or ""),
                   target=str(data.get("target") or ""), status=str(data.get("status") or "unknown"),
                   deviated=bool(data.get("deviated")), passed=bool(data.get("passed")),
                   partial=bool(data.get("partial")), figures=Figures.from_dict(data.get("figures") or {}),
                   objectives=[Verdict(**v) for v in data.get("objectives") or ()],
                   errors=[str(e) for e in data.get("errors") or ()],
                   written_at=float(data.get("written_at") or 0.0))


def read_summary(run: RunFolder) -> Summary | None:
    """The run's ``summary.json`` (None: not written yet)."""
    if not run.file(SUMMARY_FILE).exists():
        return None
    return Summary.from_dict(run.read_json(SUMMARY_FILE))


def _ledger(run: RunFolder, errors: list[str]) -> None:
    """Make sure the ledger was read back once (the RPO probe usually did; else now, after the ledger stopped)."""
    if not run.file("ledger.jsonl").exists():
        return
    from aftershock.probes.ledger.activities import read_back_once

    try:
        read_back_once(run, timeout_s=30)
    except Exception as exc:  # the summary still gets written; the failure is reported in it
        errors.append(f"ledger read-back failed: {exc}")


def build_summary(run: RunFolder, plan: RunPlan | None = None, errors: Iterable[str] = ()) -> Summary:
    """Judge the run from its plan (objectives, judged names) and what was measured; ``errors`` from the
    post-processing make it fail."""
    plan = plan or read_plan(run)
    errors = list(errors)
    journal = run.read_json("journal.json") if run.file("journal.json").exists() else {}
    _ledger(run, errors)
    timeline = timeline_now(run)
    traffic = [asdict(s) for s in summarize(timeline)] if timeline.total else []
    figures = Figures.from_measurements(read_measurements(run), traffic)
    wanted = plan.objectives
    verdicts = [Verdict.judge(name, wanted.get(name, 0.0), figures.figure(name) if name in wanted else None)
                for name in plan.judged]
    status = str(journal.get("status") or "unknown")
    if any(m.kind is MarkerKind.RUN_INTERRUPTED for m in read_markers(run)):
        status = "interrupted"  # a signal arrived, even if Chaos Toolkit finished the journal as completed
    deviated = bool(journal.get("deviated", False))
    partial = not journal
    passed = status == "completed" and not deviated and bool(verdicts) and all(v.met for v in verdicts) and not errors
    return Summary(scenario=plan.scenario, disruption=plan.disruption, target=plan.target, status=status,
                   deviated=deviated, passed=passed, partial=partial, figures=figures, objectives=verdicts,
                   errors=errors)


def write_summary(run: RunFolder, plan: RunPlan | None = None, errors: Iterable[str] = ()) -> Summary:
    summary = build_summary(run, plan, errors)
    run.write_json(SUMMARY_FILE, summary.to_dict())
    return summary


__all__ = ["SUMMARY_FILE", "Summary", "build_summary", "read_summary", "write_summary"]
