"""Static checks of experiments: the shipped ones pass, broken copies fail with one line naming file, step, fix."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.errors import UsageError
from aftershock.validate import activities, check_experiment, load_experiment_file

REPO = Path(__file__).resolve().parents[3]
EXPERIMENTS = sorted((REPO / "experiments").glob("*.yaml"))
AZ_OUTAGE = REPO / "experiments" / "az-outage.yaml"

Mutation = Callable[[dict[str, Any]], None]


def az_outage() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(AZ_OUTAGE.read_text())
    return data


def broken(tmp_path: Path, mutate: Mutation, name: str = "broken.yaml") -> Path:
    data = az_outage()
    mutate(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def usage_error(path: Path) -> str:
    with pytest.raises(UsageError) as err:
        load_experiment_file(path)
    message = str(err.value)
    assert "\n" not in message
    return message


def set_provider(where: str, index: int, **fields: Any) -> Mutation:
    return lambda e: e[where][index]["provider"].update(fields)


def add_step(step: dict[str, Any]) -> Mutation:
    return lambda e: e["method"].append(step)


UNKNOWN_MODULE = set_provider("method", 0, module="faults.nope")
UNKNOWN_FUNC = set_provider("method", 0, func="nope")
UNKNOWN_ARGUMENT = set_provider("method", 0, arguments={"az": "", "zone": "x"})
MISSING_ARGUMENT = add_step({"type": "probe", "name": "outstanding",
                             "provider": {"type": "python", "module": "aftershock.core.journal",
                                          "func": "outstanding"}})


def test_every_shipped_experiment_loads() -> None:
    assert [p.stem for p in EXPERIMENTS] == [
        "aurora-global-failover", "aurora-global-switchover", "aurora-writer-crash", "az-outage",
        "cross-region-connectivity", "dns-failover", "dns-region-failover", "dns-routing-control",
        "dynamodb-replication-lag",
        "identity-region-failover", "pod-kill", "region-evacuation", "scale-out"]


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_shipped_experiment_is_valid(path: Path) -> None:
    experiment = load_experiment_file(path)
    assert experiment["title"]
    config = experiment["configuration"]
    assert config["aftershock_scenario"] == path.stem
    rollbacks = [a["provider"]["func"] for a in experiment["rollbacks"]]
    assert rollbacks[0] == "revert_faults"


def test_a_missing_file_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert usage_error(path) == f"experiment file {str(path)!r} does not exist: pass a file from experiments/"


def test_bad_yaml_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: [unclosed\n")
    assert usage_error(path) == (
        f"{path}: cannot be loaded (Failed parsing YAML experiment: while parsing a flow sequence in "
        f"\"{path}\", line 1, column 8 expected ',' or ']', but got '<stream end>' in \"{path}\", line 2, "
        "column 1); fix the YAML/JSON syntax")


def test_a_yaml_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- title: x\n")
    assert usage_error(path) == f"{path}: an experiment must be a mapping; see experiments/az-outage.yaml"


def test_a_missing_aftershock_control_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e.pop("controls"))
    assert usage_error(path) == (f"{path}: controls must declare the aftershock control "
                                 "({name: aftershock, provider: {type: python, module: aftershock.control}})")


def test_another_control_alone_does_not_count(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e.update(controls=[
        {"name": "other", "provider": {"type": "python", "module": "chaosaddons.controls.safeguards"}}]))
    assert usage_error(path).startswith(f"{path}: controls must declare the aftershock control")


def test_an_unknown_disruption_type_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e["configuration"].update(aftershock_disruption="volcano"))
    assert usage_error(path) == (f"{path}: configuration.aftershock_disruption 'volcano' is unknown: use one of "
                                 "application, infrastructure, az, region, scaling")


def test_chaostoolkit_validation_runs_too(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e.pop("title"))
    assert usage_error(path) == f"{path}: invalid experiment: experiment requires a title"


def expected_messages(path: Path) -> dict[str, str]:
    step = f"{path}: method[0] 'lose-the-writer-az'"
    return {
        "unknown-module": f"{step}: module 'faults.nope' cannot be imported (No module named 'faults.nope'); "
                          "fix provider.module",
        "unknown-func": f"{step}: aftershock.faults.actions has no function 'nope'; fix provider.func",
        "unknown-argument": f"{step}: aftershock.faults.actions.az_outage() has no argument 'zone'; use one of: az",
        "missing-argument": f"{path}: method[3] 'outstanding': "
        "aftershock.core.journal.outstanding() needs argument 'run'; "
                            "add it to provider.arguments",
    }


CASES = {"unknown-module": UNKNOWN_MODULE, "unknown-func": UNKNOWN_FUNC, "unknown-argument": UNKNOWN_ARGUMENT,
         "missing-argument": MISSING_ARGUMENT}


@pytest.mark.parametrize("case", CASES)
def test_our_activity_checks_name_file_step_and_fix(case: str) -> None:
    experiment = az_outage()
    CASES[case](experiment)
    path = Path("experiments/x.yaml")
    with pytest.raises(UsageError) as err:
        check_experiment(experiment, path)
    assert str(err.value) == expected_messages(path)[case]


@pytest.mark.parametrize("case", CASES)
def test_load_experiment_file_reports_our_activity_messages(tmp_path: Path, case: str) -> None:
    """Ours run before Chaos Toolkit's, whose messages name neither the step nor the fix."""
    path = broken(tmp_path, CASES[case])
    assert usage_error(path) == expected_messages(path)[case]


def test_an_activity_without_arguments_says_none(tmp_path: Path) -> None:
    experiment = az_outage()
    experiment["method"][0]["provider"] = {"type": "python", "module": "aftershock.faults.actions",
                                           "func": "crash_writer",
                                           "arguments": {"region": "us-east-1"}}
    with pytest.raises(UsageError) as err:
        check_experiment(experiment, Path("x.yaml"))
    assert str(err.value) == ("x.yaml: method[0] 'lose-the-writer-az': aftershock.faults.actions.crash_writer() has no "
                              "argument 'region'; use one of: (none)")
    assert err.value.context == {"step": "method[0] 'lose-the-writer-az'", "path": "x.yaml"}


def test_rollbacks_and_hypothesis_probes_are_checked_too() -> None:
    experiment = az_outage()
    experiment["rollbacks"][1]["provider"]["arguments"] = {"timeout": 5}
    with pytest.raises(UsageError) as err:
        check_experiment(experiment, Path("x.yaml"))
    assert str(err.value) == ("x.yaml: rollbacks[1] 'wait-until-healthy': "
                              "aftershock.faults.actions.wait_until_healthy() has "
                              "no argument 'timeout'; use one of: timeout_s")
    experiment = az_outage()
    experiment["steady-state-hypothesis"]["probes"][0]["provider"]["func"] = "error_rate"
    with pytest.raises(UsageError) as err:
        check_experiment(experiment, Path("x.yaml"))
    assert str(err.value) == ("x.yaml: steady-state-hypothesis.probes[0] 'error-rate-within-slo': "
                              "aftershock.probes.slo has no "
                              "function 'error_rate'; fix provider.func")


def test_references_and_non_python_providers_are_not_imported() -> None:
    # each step names a module that cannot be imported: validation passes only if it never tries
    missing = {"module": "aftershock_no_such_module", "func": "nope"}
    experiment = az_outage()
    experiment["method"] += [
        {"ref": "lose-the-writer-az", "provider": {"type": "python", **missing}},
        {"type": "probe", "name": "http", "provider": {"type": "http", "url": "http://127.0.0.1:1/", **missing}},
        {"type": "action", "name": "sh", "provider": {"type": "process", "path": "true", **missing}},
    ]
    check_experiment(experiment, Path("x.yaml"))
    # the same module in a python provider is imported, and fails
    as_python = {"type": "action", "name": "py", "provider": {"type": "python", **missing}}
    with pytest.raises(UsageError) as err:
        check_experiment({**experiment, "method": [as_python]}, Path("x.yaml"))
    assert "module 'aftershock_no_such_module' cannot be imported" in str(err.value)


def test_activities_lists_every_step_with_where_it_is() -> None:
    where = [w for w, _ in activities(az_outage())]
    assert where == ["steady-state-hypothesis.probes[0]", "steady-state-hypothesis.probes[1]", "method[0]",
                     "method[1]", "method[2]", "rollbacks[0]", "rollbacks[1]"]
    assert [w for w, _ in activities({})] == []


def test_loading_does_not_modify_the_shipped_file() -> None:
    before = AZ_OUTAGE.read_bytes()
    data = copy.deepcopy(load_experiment_file(AZ_OUTAGE))
    assert data["configuration"]["aftershock_disruption"] == "az"
    assert AZ_OUTAGE.read_bytes() == before


def test_an_unknown_aftershock_role_is_refused(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e["method"][0].update(aftershock_role="cleanup"))
    assert usage_error(path) == (f"{path}: method[0] 'lose-the-writer-az': aftershock_role 'cleanup' is not allowed "
                                 "here: only a method action may declare it, as one of disruption, remediation")


def test_a_probe_cannot_declare_a_role(tmp_path: Path) -> None:
    path = broken(tmp_path, lambda e: e["steady-state-hypothesis"]["probes"][0].update(aftershock_role="remediation"))
    assert "aftershock_role 'remediation' is not allowed here" in usage_error(path)


def test_the_global_failover_declares_its_dial_change_a_remediation() -> None:
    experiment = load_experiment_file(REPO / "experiments" / "aurora-global-failover.yaml")
    roles = {step["name"]: step.get("aftershock_role") for step in experiment["method"] if step["type"] == "action"}
    assert roles == {"fail-over-the-global-database": None, "evacuate-the-primary-region": "remediation"}
