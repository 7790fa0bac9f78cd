"""The run summary (``summary.json``): the figures, each objective judged, and the verdict.

Figures come only from measurement: RTO from the recovery probe (the traffic), RPO and lost/in-doubt writes
from reading the ledger back at the end of the run, scaling times from the autoscaling probe. A figure that
was not measured is ``null`` and its objective is not met.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aftershock.core.runfolder import RunFolder
from aftershock.core.target import load_target
from aftershock.core.timeline.analysis import summarize
from aftershock.faults.context import target_ref
from aftershock.objectives import Verdict, resolve_objectives
from aftershock.probes.live import MEASUREMENTS, timeline_now


@dataclass(frozen=True)
class Summary:
    scenario: str
    disruption: str
    target: str
    status: str
    deviated: bool
    passed: bool
    partial: bool
    figures: dict[str, Any]
    objectives: list[Verdict]
    errors: list[str] = field(default_factory=list)
    written_at: float = field(default_factory=time.time)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def _last(run: RunFolder, kind: str) -> dict[str, Any] | None:
    found = [m for m in run.records(MEASUREMENTS) if m["kind"] == kind]
    return found[-1] if found else None


def _ledger_figures(run: RunFolder, configuration: Mapping[str, Any] | None, errors: list[str]) -> dict[str, Any]:
    if not run.file("ledger.jsonl").exists():
        return {}
    previous = _last(run, "rpo")
    if previous is not None:  # read back once the ledger stopped; later summaries reuse it
        return _rpo_figures(previous)
    from aftershock.faults.context import ActivityContext
    from aftershock.probes.ledger.readback import read_back

    try:
        conninfo = ActivityContext.from_configuration(configuration).driver.writer_conninfo()
        result = read_back(conninfo, run.path, run.path.name, timeout_s=30).to_dict()
    except Exception as exc:  # the summary still gets written; the failure is reported in it
        errors.append(f"ledger read-back failed: {exc}")
        return {}
    run.append(MEASUREMENTS, {"ts": time.time(), "kind": "rpo", **result})
    return _rpo_figures(result)


def _rpo_figures(result: Mapping[str, Any]) -> dict[str, Any]:
    ledger = {k: v for k, v in result.items() if k not in ("ts", "kind")}
    return {"rpo_s": result["rpo_s"], "lost_writes": result["lost"], "in_doubt_writes": result["in_doubt"],
            "acknowledged_writes": result["acknowledged"], "ledger": ledger}


def build_summary(run: RunFolder, configuration: Mapping[str, Any] | None) -> Summary:
    config = configuration or {}
    errors: list[str] = []
    journal = run.read_json("journal.json") if run.file("journal.json").exists() else {}
    scenario = str(config.get("aftershock_scenario") or journal.get("experiment", {}).get("title") or "experiment")
    disruption = str(config.get("aftershock_disruption") or "application")
    target = load_target(target_ref(configuration))
    figures: dict[str, Any] = {}
    rto = _last(run, "rto")
    if rto:
        figures["rto_s"] = rto["rto_s"]
        figures["outages"] = rto["outages"]
    scaling = _last(run, "scaling")
    if scaling:
        for key in ("first_scale_s", "ready_capacity_s", "latency_slo_s"):
            figures[key] = scaling.get(key)
        figures["scaling"] = scaling
    shift = _last(run, "traffic_shift")
    if shift:
        figures["traffic_shift_s"] = shift["shift_s"]
    lag = _last(run, "replication_lag")
    if lag:
        figures["replication_lag_s"] = lag["worst_s"]
    figures.update(_ledger_figures(run, configuration, errors))
    timeline = timeline_now(run)
    figures["traffic"] = [asdict(s) for s in summarize(timeline)] if timeline.total else []
    overrides = config.get("aftershock_objectives") or {}
    wanted = resolve_objectives(target, disruption, overrides if isinstance(overrides, Mapping) else {})
    judged = str(config.get("aftershock_judge") or "")
    names = [n.strip() for n in judged.split(",") if n.strip()] or list(wanted)
    verdicts = [Verdict.judge(name, wanted.get(name, 0.0), figures.get(name) if name in wanted else None)
                for name in names]
    status = str(journal.get("status") or "unknown")
    if any(m["kind"] == "run.interrupted" for m in run.records("markers.jsonl")):
        status = "interrupted"  # a signal arrived, even if Chaos Toolkit finished the journal as completed
    deviated = bool(journal.get("deviated", False))
    partial = not journal or not run.file("journal.json").exists()
    passed = status == "completed" and not deviated and bool(verdicts) and all(v.met for v in verdicts) and not errors
    return Summary(scenario=scenario, disruption=disruption, target=target.name, status=status, deviated=deviated,
                   passed=passed, partial=partial, figures=figures, objectives=verdicts, errors=errors)


def write_summary(run: RunFolder, configuration: Mapping[str, Any] | None) -> Summary:
    summary = build_summary(run, configuration)
    data = asdict(summary)
    data["exit_code"] = summary.exit_code
    run.write_json("summary.json", data)
    return summary
