"""Post-processing (safety net, journal, summary, reports, history) happens exactly once per run, whoever
started it: ``aftershock run`` (the control finishes, the runner's own call is a no-op) or plain ``chaos run``
(the control resolves the plan itself and finishes)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from aftershock import control
from aftershock.core.kinds import MarkerKind
from aftershock.core.measurements import read_markers
from aftershock.core.plan import RunPlan, read_plan
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.faults import actions
from aftershock.finish import finish_run
from tests.runkit import FakeDriver

JOURNAL = {"status": "completed", "deviated": False, "experiment": {"title": "Lose an AZ"}}


class FakeSession:
    """Stands in for the load, ledger and sampler around the experiment (no Locust, no database)."""

    started: ClassVar[list[FakeSession]] = []

    def __init__(self, run: RunFolder, plan: RunPlan) -> None:
        self.run, self.plan, self.stops = run, plan, 0

    @classmethod
    def begin(cls, run: RunFolder, plan: RunPlan) -> FakeSession:
        session = cls(run, plan)
        cls.started.append(session)
        return session

    def stop(self) -> None:
        self.stops += 1


@pytest.fixture(autouse=True)
def _fake_session(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeSession.started = []
    monkeypatch.setattr(control, "RunSession", FakeSession)  # where the control plugs its session in


def _experiment(configuration: dict[str, Any]) -> None:
    """What Chaos Toolkit does with the aftershock control: before, a fault and no rollback, after, cleanup."""
    control.before_experiment_control({"title": "Lose an AZ"}, configuration=configuration)
    actions.az_outage(configuration=configuration)  # left injected: the safety net must revert it
    control.after_experiment_control({"title": "Lose an AZ"}, state=JOURNAL, configuration=configuration)
    control.cleanup_control()


def _assert_finished_once(run: RunFolder, driver: FakeDriver, by: str) -> None:
    finished = [m for m in read_markers(run) if m.kind is MarkerKind.RUN_FINISHED]
    assert [m.get("by") for m in finished] == [by]
    assert driver.methods.count("az_restore") == 1 and driver.methods.count("wait_healthy") == 1
    assert [m.get("by") for m in read_markers(run) if m.kind is MarkerKind.FAULT_REVERTED] == ["safety-net"]
    assert run.file("summary.json").exists() and run.file("report.html").exists()
    assert read_plan(run).ended_at is not None


def test_under_aftershock_run_the_control_finishes_and_the_runner_does_not_again(
        configuration: dict[str, Any], run: RunFolder, driver: FakeDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RUN_DIR_ENV, str(run.path))  # what `aftershock run` sets besides writing run.json
    _experiment({"aftershock_run_dir": ""})
    summary_written = run.file("summary.json").stat().st_mtime_ns
    again = finish_run(run, by="aftershock run", journal=JOURNAL)  # the runner, after run_experiment returned
    assert run.file("summary.json").stat().st_mtime_ns == summary_written  # not rewritten
    assert again.scenario == "experiment" and again.status == "completed"
    _assert_finished_once(run, driver, by="control")
    [session] = FakeSession.started
    assert session.plan == read_plan(run).model_copy(update={"ended_at": None}) and session.stops >= 1


def test_under_plain_chaos_run_the_control_resolves_the_plan_and_finishes_once(
        target_file: Path, tmp_path: Path, driver: FakeDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    configuration = {"aftershock_target": str(target_file), "aftershock_run_dir": "",
                     "aftershock_scenario": "az-outage", "aftershock_disruption": "az", "aftershock_users": 5}
    _experiment(configuration)
    [path] = (tmp_path / "runs").iterdir()
    run = RunFolder(path)
    assert os.environ[RUN_DIR_ENV] == str(run.path)  # only the folder travels through the environment
    plan = read_plan(run)
    assert (plan.runner, plan.scenario, plan.title, plan.target_ref) == ("chaos run", "az-outage", "Lose an AZ",
                                                                         str(target_file))
    assert plan.load.users == 5 and plan.objectives == {"rto_s": 15.0, "rpo_s": 1.0}
    _assert_finished_once(run, driver, by="control")


def test_the_runner_finishes_a_run_the_control_never_started(configuration: dict[str, Any], run: RunFolder,
                                                             driver: FakeDriver) -> None:
    actions.az_outage(configuration=configuration)
    summary = finish_run(run, by="aftershock run")  # e.g. Ctrl-C before the experiment began
    assert finish_run(run, by="gameday") == summary
    assert summary.partial and not summary.passed
    _assert_finished_once(run, driver, by="aftershock run")
