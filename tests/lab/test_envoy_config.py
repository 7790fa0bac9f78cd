"""Envoy configuration documents, dial arithmetic and atomic writes (no Envoy process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftershock.core.errors import FaultRefused, UsageError
from aftershock.lab.envoy import config
from aftershock.lab.envoy.dials import route_weights, validated_dials
from aftershock.lab.envoy.files import write_json_atomic
from aftershock.lab.envoy.models import ALB_AWS_HEALTH, ALB_LAB_HEALTH, Endpoint, EnvoyLayout, HealthCheckSettings

REGIONS = ("us-east-1", "us-west-2")


@pytest.mark.parametrize(
    ("primary", "expected"),
    [
        (100, {"us-east-1": 100, "us-west-2": 0}),
        (0, {"us-east-1": 0, "us-west-2": 100}),
        (37, {"us-east-1": 37, "us-west-2": 63}),
    ],
)
def test_route_weights_send_the_primary_dial_to_the_primary_and_the_rest_to_the_secondary(
    primary: int, expected: dict[str, int]
) -> None:
    assert route_weights(REGIONS, {"us-east-1": primary, "us-west-2": 0}) == expected
    assert route_weights(REGIONS, {"us-east-1": primary, "us-west-2": 100}) == expected


def test_route_weights_spill_over_three_regions() -> None:
    regions = ("a", "b", "c")
    assert route_weights(regions, {"a": 50, "b": 50, "c": 0}) == {"a": 50, "b": 25, "c": 25}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"us-east-1": 101}, "traffic dial for us-east-1 is 101: use an integer percentage from 0 to 100"),
        ({"us-west-2": -1}, "traffic dial for us-west-2 is -1: use an integer percentage from 0 to 100"),
        ({"us-east-1": 50.0}, "traffic dial for us-east-1 is 50.0: use an integer percentage from 0 to 100"),
        ({"us-east-1": True}, "traffic dial for us-east-1 is True: use an integer percentage from 0 to 100"),
        ({"eu-west-1": 10}, "traffic dial for unknown region 'eu-west-1': use one of us-east-1, us-west-2"),
    ],
)
def test_bad_dials_are_refused_with_the_region_and_the_range(change: dict[str, object], message: str) -> None:
    current = {"us-east-1": 100, "us-west-2": 0}
    with pytest.raises(FaultRefused) as info:
        validated_dials(REGIONS, current, change)
    assert str(info.value) == message
    assert current == {"us-east-1": 100, "us-west-2": 0}


def test_a_zero_weight_group_is_left_out_of_the_route() -> None:
    doc = config.front_door_routes("7", {"us-east-1": 100, "us-west-2": 0})
    assert doc["version_info"] == "7"
    route = doc["resources"][0]["virtual_hosts"][0]["routes"][0]["route"]
    assert route["weighted_clusters"]["clusters"] == [{"name": "ga-via-us-east-1", "weight": 100}]
    assert route["timeout"] == "10.000s"
    assert "retry_policy" not in route


def test_load_assignment_groups_endpoints_by_az() -> None:
    endpoints = [
        Endpoint("p1", "127.0.0.1", 1001, "us-east-1b"),
        Endpoint("p2", "127.0.0.1", 1002, "us-east-1a"),
        Endpoint("p3", "127.0.0.1", 1003, "us-east-1b"),
    ]
    doc = config.load_assignment("3", "alb-us-east-1", "us-east-1", endpoints)
    groups = doc["resources"][0]["endpoints"]
    assert [g["locality"]["zone"] for g in groups] == ["us-east-1a", "us-east-1b"]
    assert [e["endpoint"]["hostname"] for e in groups[1]["lb_endpoints"]] == ["p1", "p3"]


def test_bootstrap_wires_ga_priorities_and_alb_health_checks(tmp_path: Path) -> None:
    layout = EnvoyLayout.allocate()
    doc = config.bootstrap(layout, config.ConfigPaths(tmp_path), ALB_LAB_HEALTH, ALB_AWS_HEALTH)
    clusters = {c["name"]: c for c in doc["static_resources"]["clusters"]}
    ga_west = clusters["ga-via-us-west-2"]["load_assignment"]["endpoints"]
    assert [(g["priority"], g["lb_endpoints"][0]["endpoint"]["hostname"]) for g in ga_west] == [
        (0, "alb-us-west-2"),
        (1, "alb-us-east-1"),
    ]
    alb = clusters["alb-us-east-1"]
    assert alb["common_lb_config"]["ignore_new_hosts_until_first_hc"] is True
    assert alb["ignore_health_on_host_removal"] is True
    assert "outlier_detection" not in alb
    check = alb["health_checks"][0]
    assert (check["interval"], check["timeout"], check["healthy_threshold"], check["unhealthy_threshold"]) == (
        "30.000s",
        "5.000s",
        5,
        2,
    )
    assert check["http_health_check"]["path"] == "/ready"


def test_layout_rejects_colliding_ports() -> None:
    with pytest.raises(UsageError, match="ports collide"):
        EnvoyLayout(admin=1, front_door=1, db_writer=2, alb={"us-east-1": 3, "us-west-2": 4},
                    db_readers={"us-east-1": 5, "us-west-2": 6})  # fmt: skip


def test_health_settings_validate() -> None:
    with pytest.raises(UsageError, match="thresholds must be >= 1"):
        HealthCheckSettings(interval_s=1, timeout_s=1, healthy_threshold=0, unhealthy_threshold=2, path="/ready")
    assert ALB_LAB_HEALTH.detection_s == pytest.approx(1.4)


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d" / "x.json"
    write_json_atomic(target, {"a": 1})
    inode = target.stat().st_ino
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert target.stat().st_ino != inode  # a new file was moved in: what Envoy's watch needs
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]
