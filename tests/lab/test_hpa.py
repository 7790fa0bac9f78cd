"""The HPA algorithm (pure part): tolerance, scale-up limit, targets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aftershock.lab.k8s.hpa import HpaSettings, recommend

S = HpaSettings(region="r", min_replicas=1, max_replicas=50, target_rps_per_pod=10.0)


def test_within_tolerance_keeps_replicas() -> None:
    assert recommend(3, total_rps=31.0, pods_measured=3, s=S) == (3, "within tolerance")


def test_above_target_scales_to_total_over_target() -> None:
    assert recommend(3, total_rps=50.0, pods_measured=3, s=S) == (5, "above target")


def test_scale_up_is_limited_to_double_or_plus_four() -> None:
    replicas, reason = recommend(2, total_rps=200.0, pods_measured=2, s=S)
    assert replicas == 6 and reason == "scale-up limited to 6 (wanted 20)"
    replicas, _ = recommend(10, total_rps=1000.0, pods_measured=10, s=S)
    assert replicas == 20


def test_no_metrics_changes_nothing() -> None:
    assert recommend(4, total_rps=0.0, pods_measured=0, s=S) == (4, "no metrics")


@given(current=st.integers(1, 30), total=st.floats(0, 5000), measured=st.integers(1, 30))
def test_recommendation_is_positive_and_bounded_by_the_limit(current: int, total: float, measured: int) -> None:
    replicas, _ = recommend(current, total, measured, S)
    assert 0 <= replicas <= max(2 * current, current + 4)
