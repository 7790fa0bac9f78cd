"""Wording shared by the HTML, Markdown and JUnit reports: figures, objectives, times."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aftershock.core.figures import rto_error_warning, with_error
from aftershock.reports.glossary import RTO_DEFINITION
from aftershock.reports.model import Objective, ReportData

OBJECTIVE_LABELS = {
    "rto_s": "RTO (time to recover)",
    "rpo_s": "RPO (data loss window)",
    "lost_writes": "Lost acknowledged writes",
    "in_doubt_writes": "In-doubt writes",
    "first_scale_s": "Time to first scale-out",
    "ready_capacity_s": "Time to ready capacity",
    "latency_slo_s": "Time to latency back within SLO",
    "identity_rpo_s": "Identity RPO (loss window of users at the standby pool)",
    "identity_lost": "Users lost at the standby pool",
    "rejected_session_rate": "Sessions rejected at the standby (forced re-logins)",
    "login_failure_rate": "Sign-ins failed at the standby",
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


def measured(objective: Objective, figures: Mapping[str, Any] | None = None) -> str:
    """The measured value; the RTO with its error bar (``12.40 s ± 0.03 s``) when ``figures`` hold it."""
    if objective.measured is None:
        return "not measured"
    error = (figures or {}).get(f"{objective.name.removesuffix('_s')}_error_s")
    if objective.name == "rto_s" and isinstance(error, int | float) and not isinstance(error, bool):
        return with_error(objective.measured, float(error), objective.unit)
    return f"{number(objective.measured)} {objective.unit}"


def rto_warning(data: ReportData) -> str | None:
    """The report's warning when the RTO's error bar is wider than 100 ms or 10 % of the RTO."""
    rto, error = data.figures.get("rto_s"), data.figures.get("rto_error_s")
    if not isinstance(rto, int | float) or not isinstance(error, int | float):
        return None
    offset = data.figures.get("clock_offset_ms")
    return rto_error_warning(float(rto), float(error), offset if isinstance(offset, int | float) else None)


def slow_note(data: ReportData) -> str | None:
    """Which latency counted as slow (bad) for outages and the RTO."""
    slow_ms = data.figures.get("slow_ms")
    if not isinstance(slow_ms, int | float) or isinstance(slow_ms, bool):
        return None
    note = f"requests slower than {slow_ms:g} ms count as bad (slow) for outages and the RTO"
    offset = data.figures.get("clock_offset_ms")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        note += f"; remote Locust workers' largest clock offset {offset:.1f} ms, included in the RTO's ±"
    return note


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


STORE_NAMES = {"dynamodb": "DynamoDB global table", "s3": "S3 replicated bucket"}
_LAG_FIELDS = (("lag_p50_s", "replication lag p50 (s)"), ("lag_p99_s", "replication lag p99 (s)"),
               ("lag_max_s", "replication lag max (s)"), ("lag_resolution_s", "lag resolution (s)"))


def store_sections(figures: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """One ``(title, rows)`` per store ledger of the run (``figures["stores"]``), in store order."""
    stores = figures.get("stores")
    sections = []
    for store, fields in sorted(stores.items()) if isinstance(stores, Mapping) else ():
        rows = ledger_rows(fields)
        rows += [(name, "unknown" if fields.get(key) is None else number(float(fields[key])))
                 for key, name in _LAG_FIELDS]
        title = f"{STORE_NAMES.get(store, store)} ledger (read back from {fields.get('region') or '?'})"
        sections.append((title, rows))
    return sections


def verdict_sentence(data: ReportData) -> str:
    """The verdict in words, for the top of every report."""
    if data.partial:
        return ("PARTIAL: the run did not finish (harness stopped mid-run); the figures below are what was "
                "recorded until then")
    met_count = sum(1 for o in data.objectives if o.met)
    text = f"{data.verdict}: {met_count} of {len(data.objectives)} objectives met"
    if data.deviated:
        text += "; the steady state deviated" + "".join(f" ({line})" for line in data.deviations)
    if data.status != "completed":
        text += f"; experiment status {data.status}"
    return text


__all__ = ["RTO_DEFINITION", "label", "ledger_rows", "measured", "met", "rto_warning", "seconds", "slow_note",
           "store_sections", "target", "verdict_sentence", "when"]
