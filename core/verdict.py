"""The verdict of a run (``summary.json``): its figures, each objective judged, and why it passed or not.

Written once per run by the orchestration layer (which judges); read by the CLI, the reports, the history and the
pytest plugin through :func:`read_summary`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aftershock.core.figures import Figures
from aftershock.core.runfolder import RunFolder

SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class Verdict:
    """One objective judged: target vs measured (None: not measured, which is not met)."""

    name: str
    target: float
    measured: float | None
    met: bool
    unit: str

    @classmethod
    def judge(cls, name: str, target: float, measured: float | None) -> Verdict:
        unit = {"lost_writes": "writes", "identity_lost": "users", "rejected_session_rate": "ratio",
                "login_failure_rate": "ratio"}.get(name, "s")
        return cls(name, target, measured, measured is not None and measured <= target, unit)



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
    deviations: list[str] = field(default_factory=list)
    """Why the steady state deviated: one line per hypothesis probe that missed its tolerance."""

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` format."""
        return {"scenario": self.scenario, "disruption": self.disruption, "target": self.target,
                "status": self.status, "deviated": self.deviated, "passed": self.passed, "partial": self.partial,
                "figures": self.figures.to_dict(), "objectives": [asdict(v) for v in self.objectives],
                "errors": list(self.errors), "written_at": self.written_at, "exit_code": self.exit_code,
                "deviations": list(self.deviations)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        return cls(scenario=str(data.get("scenario") or ""), disruption=str(data.get("disruption") or ""),
                   target=str(data.get("target") or ""), status=str(data.get("status") or "unknown"),
                   deviated=bool(data.get("deviated")), passed=bool(data.get("passed")),
                   partial=bool(data.get("partial")), figures=Figures.from_dict(data.get("figures") or {}),
                   objectives=[Verdict(**v) for v in data.get("objectives") or ()],
                   errors=[str(e) for e in data.get("errors") or ()],
                   written_at=float(data.get("written_at") or 0.0),
                   deviations=[str(d) for d in data.get("deviations") or ()])


def read_summary(run: RunFolder) -> Summary | None:
    """The run's ``summary.json`` (None: not written yet)."""
    if not run.file(SUMMARY_FILE).exists():
        return None
    return Summary.from_dict(run.read_json(SUMMARY_FILE))


__all__ = ["SUMMARY_FILE", "Summary", "Verdict", "read_summary"]
