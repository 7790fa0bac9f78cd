"""The run plan (``run.json``): resolved once, written once, and the only source of settings downstream."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import FormatError, HarnessError
from aftershock.core.kinds import MarkerKind, MeasurementKind
from aftershock.core.plan import LoadSettings, RunPlan, mark_ended, read_plan, write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.faults import actions
from aftershock.faults.context import ActivityContext, plan_of
from aftershock.planning import resolve_plan
from tests.runkit import FakeDriver

REPO = Path(__file__).resolve().parents[3]


def test_the_plan_round_trips_through_run_json(configuration: dict[str, Any], run: RunFolder) -> None:
    plan = read_plan(run)
    assert isinstance(plan, RunPlan) and plan.target == "t" and plan.snapshot.primary.name == "us-east-1"
    assert plan.load == LoadSettings() and plan.runner == "aftershock run"
    write_plan(run, plan)
    assert read_plan(run) == plan
    mark_ended(run, at=123.0)
    mark_ended(run, at=456.0)  # once
    assert read_plan(run).ended_at == 123.0


def test_the_target_snapshot_holds_no_secret(configuration: dict[str, Any], run: RunFolder) -> None:
    data = json.loads(run.file("run.json").read_text())
    assert data["snapshot"]["database"]["password_from"] == "env:AFTERSHOCK_DB_PASSWORD"  # a reference only
    assert "password" not in {k for k in data["snapshot"]["database"] if k != "password_from"}


def test_activities_read_the_target_from_the_plan_not_the_file(configuration: dict[str, Any], run: RunFolder,
                                                               target_file: Path, driver: FakeDriver) -> None:
    target_file.unlink()  # parsed once, when the plan was resolved
    actions.crash_writer(configuration=configuration)
    with ActivityContext.from_configuration(configuration) as ctx:
        assert ctx.target.name == "t" and ctx.run.path == run.path
    assert driver.methods == ["crash_writer"]


def test_the_plan_is_read_once_per_version_of_run_json(configuration: dict[str, Any], run: RunFolder) -> None:
    assert plan_of(run) is plan_of(run)
    before = plan_of(run)
    mark_ended(run, at=1.0)
    assert plan_of(run).ended_at == 1.0 and before.ended_at is None


def test_a_run_folder_without_a_plan_names_the_fix(run: RunFolder) -> None:
    with pytest.raises(HarnessError) as err:
        read_plan(run)
    assert str(err.value) == (f"{run.path} has no run.json: start the run with `aftershock run` or declare the "
                              "aftershock control in the experiment")


def test_an_old_run_json_is_not_a_plan(run: RunFolder) -> None:
    run.write_json("run.json", {"experiment": "x", "target": "lab", "env": {"AFTERSHOCK_TARGET": "lab"}})
    with pytest.raises(FormatError) as err:
        read_plan(run)
    assert str(err.value) == (f"{run.file('run.json')} is not a run plan aftershock writes (scenario: Field "
                              "required): start a new run")


def test_the_experiment_configuration_and_options_resolve_into_the_plan(target_file: Path) -> None:
    plan = resolve_plan({"aftershock_disruption": "az", "aftershock_judge": " rpo_s, rto_s", "aftershock_users": 7,
                         "aftershock_ledger": "false", "aftershock_scenario": "az"},
                        experiment="az.yaml", target_ref=str(target_file), load={"users": 3, "shape": None})
    assert (plan.scenario, plan.disruption, plan.judge, plan.judged) == ("az", "az", ("rpo_s", "rto_s"),
                                                                         ("rpo_s", "rto_s"))
    assert plan.load == LoadSettings(users=3, ledger=False)  # the option wins over the experiment


# -- the catalogue of kinds ------------------------------------------------------------------------------


def test_marker_and_measurement_kinds_keep_their_on_disk_values() -> None:
    assert MarkerKind.FAULT_START == "fault.start" and MarkerKind("run.interrupted") is MarkerKind.RUN_INTERRUPTED
    assert MeasurementKind.RTO == "rto" and MeasurementKind("slo.p95_ms") is MeasurementKind.SLO_P95_MS
    assert len({k.value for k in MarkerKind}) == len(MarkerKind)


def test_a_marker_kind_outside_the_catalogue_is_refused(run: RunFolder) -> None:
    with pytest.raises(ValueError):
        run.mark("fault.begun")  # type: ignore[arg-type]
    run.mark(MarkerKind.FAULT_START, action="x")
    assert [r["kind"] for r in run.records("markers.jsonl")] == ["fault.start"]


def test_no_kind_is_spelled_as_a_string_outside_the_catalogue() -> None:
    kinds = "|".join(re.escape(k.value) for k in (*MarkerKind, *MeasurementKind) if "." in k.value)
    pattern = re.compile(rf"[\"']({kinds})[\"']")
    sources = [p for top in ("core", "faults", "probes", "reports", "aftershock") for p in (REPO / top).rglob("*.py")
               if p.name != "kinds.py" and not p.is_symlink() and "aftershock/core" not in str(p)]
    offenders = [f"{p.relative_to(REPO)}: {m.group(1)}" for p in sources for m in pattern.finditer(p.read_text())]
    assert offenders == []


def test_slow_ms_comes_from_the_experiment_else_the_target(tmp_path: Path, run: RunFolder) -> None:
    from tests.runkit import plan_run, write_target

    plain = write_target(tmp_path / "plain.yaml")
    strict = write_target(tmp_path / "strict.yaml", slow_ms=400)
    plan_run(run, plain)
    assert read_plan(run).slow_ms == 1000.0  # the default
    plan_run(run, strict)
    assert read_plan(run).slow_ms == 400.0  # the target's
    plan_run(run, strict, aftershock_slow_ms=250)
    assert read_plan(run).slow_ms == 250.0  # the experiment's


@pytest.mark.parametrize("value", [0, -5, "soon", True])
def test_a_bad_slow_ms_names_the_setting_and_the_fix(target_file: Path, value: object) -> None:
    from aftershock.core.errors import UsageError

    with pytest.raises(UsageError) as err:
        resolve_plan({"aftershock_slow_ms": value}, experiment="x.yaml", target_ref=str(target_file))
    assert str(err.value) == (f"bad aftershock setting aftershock_slow_ms={value!r}: use a positive number of "
                              "milliseconds in the experiment configuration (e.g. aftershock_slow_ms: 1000)")
