"""Wording shared by the HTML, Markdown and JUnit reports: figures, objectives, times."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aftershock.reports.model import Objective, ReportData

OBJECTIVE_LABELS = {
    "rto_s": "RTO (time to recover)",
    "rpo_s": "RPO (data loss window)",
    "lost_writes": "Lost acknowledged writes",
    "in_doubt_writes": "In-doubt writes",
    "first_scale_s": "Time to first scale-out",
    "ready_capacity_s": "Time to ready capacity",
    "latency_slo_s": "Time to latency back within SLO",
}

LEDGER_FIELDS = (
    ("attempted", "writes attempted"),
    ("acknowledged", "acknowledged"),
    ("kept", "kept (read back)"),
    ("lost", "lost (acknowledged, not found)"),
    ("in_doubt", "in doubt (no answer)"),
    ("failed_before_send", "failed before send"),
    ("rejected", "rejected"),
    ("rpo_s", "RPO (s)"),
    ("write_rate_per_s", "write rate (/s)"),
)


def label(name: str) -> str:
    return OBJECTIVE_LABELS.get(name, name)


def number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def measured(objective: Objective) -> str:
    if objective.measured is None:
        return "not measured"
    return f"{number(objective.measured)} {objective.unit}"


def target(objective: Objective) -> str:
    return f"<= {number(objective.target)} {objective.unit}"


def met(objective: Objective) -> str:
    return "met" if objective.met else "MISSED"


def when(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    minutes, secs = divmod(round(value), 60)
    return f"{minutes} min {secs:02d} s"


def duration(data: ReportData) -> float | None:
    start, end = data.run.started_at, data.run.ended_at
    return None if start is None or end is None else end - start


def ledger_rows(ledger: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for key, name in LEDGER_FIELDS:
        value = ledger.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            rows.append((name, number(float(value))))
    return rows


def verdict_sentence(data: ReportData) -> str:
    """The verdict in words, for the top of every report."""
    if data.partial:
        return ("PARTIAL: the run did not finish (harness stopped mid-run); the figures below are what was "
                "recorded until then")
    met_count = sum(1 for o in data.objectives if o.met)
    text = f"{data.verdict}: {met_count} of {len(data.objectives)} objectives met"
    if data.deviated:
        text += "; the steady state deviated"
    if data.status != "completed":
        text += f"; experiment status {data.status}"
    return text


__all__ = ["label", "ledger_rows", "measured", "met", "seconds", "target", "verdict_sentence", "when"]
