"""``aftershock run`` preparation: options, experiment, target and objectives checked before anything runs;
the dry-run plan says what would happen, step by step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.errors import TargetError, UsageError
from aftershock.core.plan import LoadSettings
from aftershock.objectives import KNOWN
from aftershock.runner import RunOptions, describe, prepare

REPO = Path(__file__).resolve().parents[3]
AZ_OUTAGE = REPO / "experiments" / "az-outage.yaml"


def options(target_file: Path, tmp_path: Path, **fields: Any) -> RunOptions:
    return RunOptions(target=str(target_file), out=tmp_path / "runs", **fields)


@pytest.mark.parametrize(("fields", "message"), [
    ({"users": 0}, "--users 0 must be at least 1: pass a positive number of users"),
    ({"users": -3}, "--users -3 must be at least 1: pass a positive number of users"),
    ({"workers": -1}, "--workers -1 must be 0 or more"),
    ({"shape": "wave"}, "--shape 'wave' is unknown: use one of steady, step, spike"),
])
def test_bad_options_are_refused_before_the_experiment_is_read(tmp_path: Path, target_file: Path,
                                                               fields: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as err:
        prepare(tmp_path / "not-read.yaml", options(target_file, tmp_path, **fields))
    assert str(err.value) == message


def test_prepare_resolves_the_plan_once(tmp_path: Path, target_file: Path) -> None:
    prepared = prepare(AZ_OUTAGE, options(target_file, tmp_path, users=5, workers=0, ledger=False, shape="spike",
                                          spawn_rate=2.5, load_duration_s=90))
    assert prepared.scenario == "az-outage"
    assert prepared.target.name == "t"
    assert prepared.objectives == {"rto_s": 15.0, "rpo_s": 1.0}  # lab tier, az disruption
    plan = prepared.plan
    assert (plan.target, plan.target_ref, plan.disruption, plan.judge) == ("t", str(target_file), "az",
                                                                          ("rto_s", "rpo_s"))
    assert plan.load == LoadSettings(users=5, spawn_rate=2.5, shape="spike", load_duration_s=90, workers=0,
                                     ledger=False)
    assert not (tmp_path / "runs").exists()  # nothing was created


def test_options_left_unset_keep_the_experiments_settings(tmp_path: Path, target_file: Path) -> None:
    plan = prepare(AZ_OUTAGE, options(target_file, tmp_path)).plan
    assert plan.load == LoadSettings(users=20)  # az-outage.yaml: aftershock_users: 20


def test_a_bad_load_setting_in_the_experiment_is_a_usage_error(tmp_path: Path, target_file: Path) -> None:
    data = yaml.safe_load(AZ_OUTAGE.read_text())
    data["configuration"]["aftershock_users"] = "many"
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError) as err:
        prepare(path, options(target_file, tmp_path))
    assert str(err.value) == ("bad aftershock load setting aftershock_users='many': Input should be a valid "
                              "integer, unable to parse string as an integer; fix the experiment configuration")


def test_experiment_objectives_override_the_tier(tmp_path: Path, target_file: Path) -> None:
    data = yaml.safe_load(AZ_OUTAGE.read_text())
    data["configuration"]["aftershock_objectives"] = {"rto_s": 20, "az.rpo_s": 0}
    del data["configuration"]["aftershock_scenario"]
    path = tmp_path / "my-az.yaml"
    path.write_text(yaml.safe_dump(data))
    plan = prepare(path, options(target_file, tmp_path))
    assert plan.objectives == {"rto_s": 20.0, "rpo_s": 0.0}
    assert plan.scenario == "my-az"  # the file's stem when the experiment names no scenario


def test_a_bad_experiment_objective_is_a_usage_error(tmp_path: Path, target_file: Path) -> None:
    data = yaml.safe_load(AZ_OUTAGE.read_text())
    data["configuration"]["aftershock_objectives"] = {"rto": 20}
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError) as err:
        prepare(path, options(target_file, tmp_path))
    assert str(err.value) == ("experiment objective 'rto': unknown objective 'rto'; use one of "
                              + ", ".join(sorted(KNOWN)))


def test_a_missing_target_file_is_a_target_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError) as err:
        prepare(AZ_OUTAGE, RunOptions(target=str(tmp_path / "none.yaml")))
    assert str(err.value) == (f"target file {str(tmp_path / 'none.yaml')!r} does not exist: pass --target lab or "
                              "an existing YAML file")


def test_no_running_lab_is_a_target_error() -> None:
    with pytest.raises(TargetError) as err:
        prepare(AZ_OUTAGE, RunOptions())
    assert str(err.value) == ("no lab is running: start it with `aftershock lab up --detach`, or pass --target FILE")


def test_describe_lists_every_step_and_injects_nothing(tmp_path: Path, target_file: Path) -> None:
    plan = prepare(AZ_OUTAGE, options(target_file, tmp_path))
    assert describe(plan) == [
        f"experiment {AZ_OUTAGE}: The primary region loses the AZ that holds the database writer",
        "target t (lab), front door http://127.0.0.1:1",
        "objectives rto_s <= 15, rpo_s <= 1",
        "before: start load (Locust: built-in shop journeys), the RPO ledger and the sampler; wait for traffic",
        "steady-state-hypothesis.probes[0]: probe 'error-rate-within-slo' -> "
        "aftershock.probes.slo.error_rate_within(max_error_rate=0.01, window_s=3)",
        "steady-state-hypothesis.probes[1]: probe 'p95-latency-within-slo' -> "
        "aftershock.probes.slo.p95_latency_within(max_p95_ms=500, window_s=3)",
        "method[0]: action 'lose-the-writer-az' -> aftershock.faults.actions.az_outage(az='')",
        "method[1]: probe 'rto' -> aftershock.probes.recovery.measure_rto(timeout_s=60, sustain_s=3)",
        "method[2]: probe 'rpo-ledger' -> aftershock.probes.ledger.activities.ledger_result(timeout_s=30)",
        "rollbacks[0]: action 'revert-faults' -> aftershock.faults.actions.revert_faults()",
        "rollbacks[1]: action 'wait-until-healthy' -> aftershock.faults.actions.wait_until_healthy(timeout_s=120)",
        "after: revert any fault still injected, stop load/ledger/sampler, write summary.json",
        "dry run: nothing was injected",
    ]
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("path", sorted((REPO / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_experiment_prepares_against_a_lab_target(tmp_path: Path, target_file: Path,
                                                               path: Path) -> None:
    if path.stem.startswith("dns-"):  # a Global Accelerator lab: refused before anything starts
        with pytest.raises(UsageError, match=r"needs a DNS front door.*--front-door route53-failover"):
            prepare(path, options(target_file, tmp_path))
        return
    plan = prepare(path, options(target_file, tmp_path))
    lines = describe(plan)
    assert lines[-1] == "dry run: nothing was injected"
    assert plan.objectives
