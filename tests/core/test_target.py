"""The target description model: valid files load, invalid ones name the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.errors import TargetError
from aftershock.core.target import load_target, parse_target


def minimal() -> dict[str, Any]:
    return {
        "name": "t",
        "kind": "lab",
        "regions": [
            {"name": "us-east-1", "role": "primary", "azs": ["us-east-1a", "us-east-1b"]},
            {"name": "us-west-2", "role": "secondary", "azs": ["us-west-2a"]},
        ],
        "front_door": {
            "url": "http://127.0.0.1:1",
            "endpoint_groups": [
                {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"},
                {"region": "us-west-2", "traffic_dial": 0, "load_balancer": "alb-w"},
            ],
        },
        "lab": {"control_url": "http://127.0.0.1:2", "home": "/tmp/x"},
    }


def test_minimal_target_loads_and_answers_lookups() -> None:
    target = parse_target(minimal(), "t.yaml")
    assert target.primary.name == "us-east-1"
    assert target.secondary is not None and target.secondary.name == "us-west-2"
    assert target.az("us-west-2a")[0].name == "us-west-2"


def test_dial_out_of_range_names_file_and_field() -> None:
    data = minimal()
    data["front_door"]["endpoint_groups"][0]["traffic_dial"] = 101
    with pytest.raises(TargetError) as err:
        parse_target(data, "t.yaml")
    assert str(err.value) == (
        "t.yaml: invalid target, front_door.endpoint_groups.0.traffic_dial: "
        "Input should be less than or equal to 100 (fix the file and retry)"
    )


def test_unknown_field_is_rejected() -> None:
    data = minimal()
    data["regionz"] = []
    with pytest.raises(TargetError, match=r"regionz: Extra inputs are not permitted"):
        parse_target(data, "t.yaml")


def test_reference_to_unknown_region_is_rejected() -> None:
    data = minimal()
    data["front_door"]["endpoint_groups"][1]["region"] = "eu-west-1"
    with pytest.raises(TargetError, match=r"names region 'eu-west-1', which is not in regions"):
        parse_target(data, "t.yaml")


def test_unknown_region_lookup_lists_known_ones() -> None:
    target = parse_target(minimal(), "t.yaml")
    with pytest.raises(TargetError) as err:
        target.region("mars-1")
    assert str(err.value) == "unknown region 'mars-1' in target 't': use one of us-east-1, us-west-2"


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="does not exist"):
        load_target(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(TargetError, match=r"bad.yaml: not valid YAML"):
        load_target(bad)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(minimal()))
    assert load_target(good).name == "t"


def test_no_lab_running_says_how_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSHOCK_HOME", str(tmp_path))
    with pytest.raises(TargetError) as err:
        load_target("lab")
    assert "aftershock lab up --detach" in str(err.value)
