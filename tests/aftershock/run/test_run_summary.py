"""The run summary from synthetic run folders (no ledger, so no database): figures from measurements, each
judged objective met or not, and the verdict."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aftershock.core.measurements import RtoMeasurement, ScalingMeasurement, record_measurement
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.verdict import Summary, Verdict
from aftershock.planning import resolve_plan
from aftershock.summary import build_summary as build_from_plan
from aftershock.summary import write_summary as write_from_plan
from tests.runkit import requests_between, write_timeline

COMPLETED = {"status": "completed", "deviated": False, "experiment": {"title": "Lose an AZ"}}


@pytest.fixture
def az_config(configuration: dict[str, Any]) -> dict[str, Any]:
    """An az-outage experiment's configuration judged on RTO only (the lab tier's az RTO is 15 s)."""
    return {**configuration, "aftershock_scenario": "az-outage", "aftershock_disruption": "az",
            "aftershock_judge": "rto_s"}


def _plan(run: RunFolder, configuration: dict[str, Any]) -> None:
    """The plan ``aftershock run`` would have written for this configuration (its target: the fixture's)."""
    target = str(run.path.parent / "target.yaml")
    write_plan(run, resolve_plan(configuration, experiment="x.yaml", target_ref=target))


def build_summary(run: RunFolder, configuration: dict[str, Any]) -> Summary:
    _plan(run, configuration)
    return build_from_plan(run)


def write_summary(run: RunFolder, configuration: dict[str, Any]) -> Summary:
    _plan(run, configuration)
    return write_from_plan(run)


def journal(run: RunFolder, **fields: Any) -> None:
    run.write_json("journal.json", {**COMPLETED, **fields})


def rto(run: RunFolder, rto_s: float | None) -> None:
    record_measurement(run, RtoMeasurement.from_record({"ts": time.time(), "recovered": rto_s is not None,
                                                        "rto_s": rto_s, "fault_start": 0.5,
                                                        "outages": [{"start": 1.0, "end": 2.0}]}))


def test_a_completed_run_within_objectives_passes(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 4.2)
    summary = build_summary(run, az_config)
    assert (summary.scenario, summary.disruption, summary.target) == ("az-outage", "az", "t")
    assert (summary.status, summary.deviated, summary.partial) == ("completed", False, False)
    assert summary.objectives == [Verdict("rto_s", 15.0, 4.2, True, "s")]
    assert summary.figures.to_dict() == {"rto_s": 4.2, "rto_error_s": None, "slow_ms": None, "remediations": [],
                                         "outages": [{"start": 1.0, "end": 2.0, "failures": 0, "errors": {},
                                                      "slow": 0, "start_error": None, "end_error": None}],
                                         "traffic": []}
    assert summary.errors == []
    assert summary.passed is True
    assert summary.exit_code == 0


def test_an_objective_missed_fails_the_run(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 15.001)
    summary = build_summary(run, az_config)
    assert summary.objectives == [Verdict("rto_s", 15.0, 15.001, False, "s")]
    assert (summary.passed, summary.exit_code) == (False, 1)


def test_the_last_measurement_counts(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 40.0)
    rto(run, 3.0)
    assert build_summary(run, az_config).figures.figure("rto_s") == 3.0


@pytest.mark.parametrize("figure", ["timed out", "never measured"])
def test_a_figure_not_measured_is_not_met(run: RunFolder, az_config: dict[str, Any], figure: str) -> None:
    journal(run)
    if figure == "timed out":
        rto(run, None)
    summary = build_summary(run, az_config)
    assert summary.objectives == [Verdict("rto_s", 15.0, None, False, "s")]
    assert summary.passed is False


@pytest.mark.parametrize(("fields", "status"), [
    ({"status": "failed"}, "failed"),
    ({"status": "aborted"}, "aborted"),
    ({"deviated": True}, "completed"),
])
def test_only_a_completed_run_without_deviation_passes(run: RunFolder, az_config: dict[str, Any],
                                                       fields: dict[str, Any], status: str) -> None:
    journal(run, **fields)
    rto(run, 1.0)
    summary = build_summary(run, az_config)
    assert summary.status == status
    assert summary.objectives[0].met is True
    assert summary.passed is False


def test_an_interrupted_run_does_not_pass(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 1.0)
    run.mark("run.interrupted", signal="SIGINT")
    summary = build_summary(run, az_config)
    assert (summary.status, summary.passed) == ("interrupted", False)


def test_a_missing_journal_makes_a_partial_summary(run: RunFolder, configuration: dict[str, Any]) -> None:
    rto(run, 1.0)
    summary = build_summary(run, {**configuration, "aftershock_disruption": "az", "aftershock_judge": "rto_s"})
    assert (summary.scenario, summary.status, summary.partial, summary.passed) == (
        "experiment", "unknown", True, False)


def test_the_scenario_is_the_plans(run: RunFolder, configuration: dict[str, Any]) -> None:
    journal(run)
    write_plan(run, resolve_plan(configuration, experiment="x.yaml", target_ref=str(run.path.parent / "target.yaml"),
                                 default_scenario="Lose an AZ"))
    assert build_from_plan(run).scenario == "Lose an AZ"  # the title, under plain chaos run


def test_without_a_judge_every_objective_of_the_disruption_is_judged(run: RunFolder,
                                                                     az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 1.0)
    summary = build_summary(run, {**az_config, "aftershock_judge": ""})
    assert summary.objectives == [Verdict("rto_s", 15.0, 1.0, True, "s"), Verdict("rpo_s", 1.0, None, False, "s")]
    assert summary.passed is False  # RPO was not measured


def test_the_judge_selects_objectives_in_its_order(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 1.0)
    summary = build_summary(run, {**az_config, "aftershock_judge": " rpo_s , rto_s "})
    assert [v.name for v in summary.objectives] == ["rpo_s", "rto_s"]


def test_a_judged_name_that_is_no_objective_does_not_pass_the_run(run: RunFolder,
                                                                  az_config: dict[str, Any]) -> None:
    journal(run)
    summary = build_summary(run, {**az_config, "aftershock_judge": "rto"})  # typo of rto_s; RTO not measured
    assert summary.passed is False


def test_experiment_objectives_override_the_tier(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 20.0)
    summary = build_summary(run, {**az_config, "aftershock_objectives": {"rto_s": 30}})
    assert summary.objectives == [Verdict("rto_s", 30.0, 20.0, True, "s")]
    assert summary.passed is True


def test_scaling_figures_are_judged_against_the_scaling_objectives(run: RunFolder,
                                                                   configuration: dict[str, Any]) -> None:
    journal(run)
    record_measurement(run, ScalingMeasurement(ts=time.time(), region="us-east-1", step_at=0.0, first_scale_s=2.0,
                                               ready_capacity_s=31.0, latency_slo_s=0.0))
    summary = build_summary(run, {**configuration, "aftershock_disruption": "scaling",
                                  "aftershock_judge": "first_scale_s,ready_capacity_s,latency_slo_s"})
    assert summary.objectives == [Verdict("first_scale_s", 12.0, 2.0, True, "s"),
                                  Verdict("ready_capacity_s", 30.0, 31.0, False, "s"),
                                  Verdict("latency_slo_s", 45.0, 0.0, True, "s")]
    assert summary.figures.scaling is not None and summary.figures.scaling.region == "us-east-1"
    assert summary.passed is False


def test_traffic_figures_summarize_the_timeline(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 1.0)
    start = float(int(time.time()) - 2)  # whole seconds: exactly 200 requests
    write_timeline(run, requests_between(start, start + 2, down=[(start + 0.5, start + 1.0)]))
    traffic = build_summary(run, az_config).figures.traffic
    assert [row["name"] for row in traffic] == ["GET /api/products", "TOTAL"]
    assert (traffic[-1]["requests"], traffic[-1]["failures"]) == (200, 50)


def test_write_summary_writes_summary_json(run: RunFolder, az_config: dict[str, Any]) -> None:
    journal(run)
    rto(run, 4.2)
    summary = write_summary(run, az_config)
    written = run.read_json("summary.json")
    assert written == summary.to_dict() and written["exit_code"] == 0
    assert Summary.from_dict(written).figures.figure("rto_s") == 4.2
    assert written["objectives"] == [{"name": "rto_s", "target": 15.0, "measured": 4.2, "met": True, "unit": "s"}]
