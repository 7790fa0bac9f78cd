"""Why a run deviated, in its summary: each hypothesis probe that missed, what its SLO window measured, and the
load generator's lag when it may explain a missed p95 (synthetic run folders)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aftershock.core.measurements import SloErrorRate, SloP95, record_measurement
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.verdict import Summary
from aftershock.planning import resolve_plan
from aftershock.summary import write_summary

T0 = 1_796_068_275.0


def probe(name: str, func: str, met: bool, start: float, end: float) -> dict[str, Any]:
    """A hypothesis probe's journal entry, as Chaos Toolkit writes it."""
    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat()

    return {"activity": {"name": name, "provider": {"type": "python", "module": "aftershock.probes.slo",
                                                    "func": func}},
            "status": "succeeded", "output": met, "start": iso(start), "end": iso(end), "tolerance_met": met}


def summary_of(run: RunFolder, configuration: dict[str, Any], after: list[dict[str, Any]]) -> Summary:
    write_plan(run, resolve_plan(configuration, experiment="x.yaml", target_ref=str(run.path.parent / "target.yaml")))
    run.write_json("journal.json", {"status": "completed", "deviated": True, "steady_states": {
        "before": {"steady_state_met": True, "probes": [probe("error-rate-within-slo", "error_rate_within", True,
                                                                T0 - 10, T0 - 9.9)]},
        "after": {"steady_state_met": False, "probes": after}}})
    return write_summary(run)


def test_a_missed_p95_names_its_window_and_the_generators_lag(run: RunFolder, configuration: dict[str, Any]) -> None:
    record_measurement(run, SloErrorRate(ts=T0 + 0.001, value=0.0, limit=0.01, met=True, requests=45, window_s=3,
                                         generator_lag_ms=141.8))
    record_measurement(run, SloP95(ts=T0 + 0.003, value=566.7, limit=500, met=False, requests=45, window_s=3,
                                   generator_lag_ms=141.8))
    summary = summary_of(run, configuration, [
        probe("error-rate-within-slo", "error_rate_within", True, T0, T0 + 0.002),
        probe("p95-latency-within-slo", "p95_latency_within", False, T0 + 0.002, T0 + 0.004)])
    assert summary.passed is False and summary.deviated is True
    assert summary.deviations == [
        "after the method: p95-latency-within-slo: p95 567 ms > 500 ms over the last 3 s (45 requests); the load "
        "generator's own loop lagged up to 142 ms in that window: up to that much of each latency may be the "
        "harness's own delay (give Locust more CPU or fewer users)"]
    assert json.loads(run.file("summary.json").read_text())["deviations"] == summary.deviations


def test_a_small_lag_is_not_named_and_other_probes_are_listed(run: RunFolder, configuration: dict[str, Any]) -> None:
    record_measurement(run, SloErrorRate(ts=T0 + 0.001, value=0.04, limit=0.01, met=False, requests=300,
                                         window_s=5, generator_lag_ms=12.0))
    record_measurement(run, SloP95(ts=T0 + 0.003, value=900.0, limit=500, met=False, requests=300, window_s=5,
                                   generator_lag_ms=12.0))
    own = probe("orders-are-served", "orders_served", False, T0 + 0.004, T0 + 0.005)
    own["activity"]["provider"]["module"] = "mine"
    summary = summary_of(run, configuration, [
        probe("error-rate-within-slo", "error_rate_within", False, T0, T0 + 0.002),
        probe("p95-latency-within-slo", "p95_latency_within", False, T0 + 0.002, T0 + 0.004), own])
    assert summary.deviations == [
        "after the method: error-rate-within-slo: error rate 4.0% > 1.0% over the last 5 s (300 requests)",
        "after the method: p95-latency-within-slo: p95 900 ms > 500 ms over the last 5 s (300 requests)",
        "after the method: orders-are-served: did not meet its tolerance"]


def test_a_run_that_did_not_deviate_has_no_deviation_lines(run: RunFolder, configuration: dict[str, Any]) -> None:
    write_plan(run, resolve_plan(configuration, experiment="x.yaml", target_ref=str(run.path.parent / "target.yaml")))
    run.write_json("journal.json", {"status": "completed", "deviated": False})
    assert write_summary(run).deviations == []
