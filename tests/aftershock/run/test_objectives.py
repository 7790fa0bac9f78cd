"""Objectives: tier policy -> target overrides -> experiment overrides, strict keys, and the verdict."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftershock.core.errors import TargetError, UsageError
from aftershock.core.target import Target, parse_target
from aftershock.core.verdict import Verdict
from aftershock.objectives import DISRUPTIONS, KNOWN, policy, resolve_objectives, tiers
from tests.runkit import target_data

KNOWN_LIST = ", ".join(sorted(KNOWN))  # every known objective, as the message lists them
DISRUPTION_LIST = "application, infrastructure, az, region, scaling"


def target(tier: str = "lab", objectives: dict[str, Any] | None = None) -> Target:
    return parse_target(target_data(objectives_tier=tier, objectives=objectives or {}), "t.yaml")


def test_the_policy_has_every_tier_and_disruption() -> None:
    assert tiers() == ("active-active", "warm-standby", "pilot-light", "backup-restore", "lab")
    for tier in tiers():
        assert tuple(policy()[tier]) == DISRUPTIONS
        for objectives in policy()[tier].values():
            assert set(objectives) <= KNOWN


@pytest.mark.parametrize("tier", ["active-active", "warm-standby", "pilot-light", "backup-restore", "lab"])
@pytest.mark.parametrize("disruption", DISRUPTIONS)
def test_without_overrides_the_tier_decides(tier: str, disruption: str) -> None:
    resolved = resolve_objectives(target(tier), disruption)
    assert resolved == {k: float(v) for k, v in policy()[tier][disruption].items()}
    assert all(isinstance(v, float) for v in resolved.values())


def test_lab_tier_figures() -> None:
    assert resolve_objectives(target(), "az") == {"rto_s": 15.0, "rpo_s": 1.0}
    assert resolve_objectives(target(), "scaling") == {
        "first_scale_s": 12.0, "ready_capacity_s": 30.0, "latency_slo_s": 45.0}


def test_target_objectives_apply_to_their_own_disruption_only() -> None:
    t = target(objectives={"az.rto_s": 90, "region.rpo_s": 2})
    assert resolve_objectives(t, "az") == {"rto_s": 90.0, "rpo_s": 1.0}
    assert resolve_objectives(t, "region") == {"rto_s": 30.0, "rpo_s": 2.0, "identity_rpo_s": 10.0,
                                               "rejected_session_rate": 1.0, "login_failure_rate": 0.5}
    assert resolve_objectives(t, "application") == {"rto_s": 10.0, "rpo_s": 0.0}


def test_a_bare_key_applies_to_every_disruption() -> None:
    t = target(objectives={"rto_s": 7})
    assert resolve_objectives(t, "az")["rto_s"] == 7.0
    assert resolve_objectives(t, "region")["rto_s"] == 7.0


def test_experiment_overrides_win_over_the_target() -> None:
    t = target(objectives={"az.rto_s": 90, "az.rpo_s": 3})
    assert resolve_objectives(t, "az", {"rto_s": 20, "az.rpo_s": 0.5, "region.rto_s": 1}) == {
        "rto_s": 20.0, "rpo_s": 0.5}


def test_the_documented_example() -> None:
    objectives = resolve_objectives(target(), disruption="az", overrides={"rto_s": 20})
    assert objectives["rto_s"] == 20.0


@given(
    disruption=st.sampled_from(DISRUPTIONS),
    name=st.sampled_from(sorted(KNOWN)),
    tier=st.sampled_from(["lab", "warm-standby"]),
    target_value=st.none() | st.integers(min_value=0, max_value=10_000),
    target_scoped=st.booleans(),
    experiment_value=st.none() | st.integers(min_value=0, max_value=10_000),
    experiment_scoped=st.booleans(),
)
def test_later_sources_win(disruption: str, name: str, tier: str, target_value: int | None, target_scoped: bool,
                           experiment_value: int | None, experiment_scoped: bool) -> None:
    objectives: dict[str, Any] = {}
    if target_value is not None:
        objectives[f"{disruption}.{name}" if target_scoped else name] = target_value
    overrides: dict[str, Any] = {}
    if experiment_value is not None:
        overrides[f"{disruption}.{name}" if experiment_scoped else name] = experiment_value
    resolved = resolve_objectives(target(tier, objectives), disruption, overrides)
    expected = policy()[tier][disruption].get(name)
    for value in (target_value, experiment_value):
        if value is not None:
            expected = value
    if expected is None:
        assert name not in resolved
    else:
        assert resolved[name] == float(expected)


def test_an_unknown_disruption_type_names_the_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        resolve_objectives(target(), "earthquake")
    assert str(err.value) == f"unknown disruption type 'earthquake': use one of {DISRUPTION_LIST}"


def test_an_unknown_tier_names_the_target_and_the_known_tiers() -> None:
    with pytest.raises(TargetError) as err:
        resolve_objectives(target("gold"), "az")
    assert str(err.value) == ("target 't': unknown objectives_tier 'gold': use one of active-active, warm-standby, "
                              "pilot-light, backup-restore, lab")


@pytest.mark.parametrize(("source", "key", "message"), [
    ("target", "az.rto", f"target objective 'az.rto': unknown objective 'rto'; use one of {KNOWN_LIST}"),
    ("experiment", "rto", f"experiment objective 'rto': unknown objective 'rto'; use one of {KNOWN_LIST}"),
    ("target", "zone.rto_s",
     f"target objective 'zone.rto_s': unknown disruption 'zone'; use one of {DISRUPTION_LIST}"),
    ("experiment", "az.x.rto_s",
     f"experiment objective 'az.x.rto_s': unknown disruption 'az.x'; use one of {DISRUPTION_LIST}"),
])
def test_unknown_keys_are_usage_errors_naming_source_and_key(source: str, key: str, message: str) -> None:
    """Also for keys scoped to another disruption: a typo is caught whatever the scenario."""
    with pytest.raises(UsageError) as err:
        if source == "target":
            resolve_objectives(target(objectives={key: 1}), "region")
        else:
            resolve_objectives(target(), "region", {key: 1})
    assert str(err.value) == message


def test_a_non_numeric_experiment_override_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as err:
        resolve_objectives(target(), "az", {"rto_s": "20s"})
    assert "experiment objective 'rto_s'" in str(err.value)


def test_judge_met_when_measured_within_target() -> None:
    assert Verdict.judge("rto_s", 15.0, 15.0) == Verdict("rto_s", 15.0, 15.0, True, "s")
    assert Verdict.judge("rto_s", 15.0, 15.001).met is False
    assert Verdict.judge("lost_writes", 0.0, 0) == Verdict("lost_writes", 0.0, 0, True, "writes")


def test_judge_not_measured_is_not_met() -> None:
    assert Verdict.judge("rpo_s", 5.0, None) == Verdict("rpo_s", 5.0, None, False, "s")


@given(st.sampled_from(sorted(KNOWN)), st.floats(min_value=0, max_value=1e6),
       st.none() | st.floats(min_value=0, max_value=1e6))
def test_judge_property(name: str, target_value: float, measured: float | None) -> None:
    verdict = Verdict.judge(name, target_value, measured)
    assert verdict.met == (measured is not None and measured <= target_value)
    units = {"lost_writes": "writes", "identity_lost": "users", "rejected_session_rate": "ratio",
             "login_failure_rate": "ratio"}
    assert verdict.unit == units.get(name, "s")
