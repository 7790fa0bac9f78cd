"""A DNS experiment against a target without a DNS front door is refused before anything starts (exit 2, one
line naming the fix, no run folder), through the real CLI; with a DNS front door the same experiment prepares."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from aftershock.runner import RunOptions, prepare

REPO = Path(__file__).resolve().parents[3]
DNS_EXPERIMENTS = ["dns-failover", "dns-region-failover"]


@pytest.mark.parametrize("name", DNS_EXPERIMENTS)
def test_a_dns_experiment_without_a_dns_front_door_is_refused_by_the_cli(tmp_path: Path, target_file: Path,
                                                                         name: str) -> None:
    out = tmp_path / "runs"
    result = subprocess.run([sys.executable, "-m", "aftershock", "run", name, "--target", str(target_file),
                             "--out", str(out)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2, result
    assert result.stderr.strip().splitlines() == [
        f"error: experiment {name} needs a DNS front door, but target 't' has front_door.kind "
        "global-accelerator: start the lab with `aftershock lab up --front-door route53-failover` (or describe "
        "front_door.dns on an AWS target)"], result.stderr
    assert not out.exists() or not any(out.iterdir())  # nothing started: no run folder


def test_a_dns_experiment_with_a_dns_front_door_prepares(tmp_path: Path, target_file: Path) -> None:
    data = yaml.safe_load(target_file.read_text())
    data["front_door"] = {**data["front_door"], "kind": "route53-failover", "dns": {
        "zone": "aftershock-lab.test", "record": "shop.aftershock-lab.test", "ttl_s": 2,
        "answers": {"us-east-1": "127.0.1.1", "us-west-2": "127.0.2.1"},
        "health_checks": [{"region": r, "id": f"hc-{r}"} for r in ("us-east-1", "us-west-2")]}}
    target_file.write_text(yaml.safe_dump(data))
    prepared = prepare(REPO / "experiments" / "dns-region-failover.yaml",
                       RunOptions(target=str(target_file), out=tmp_path / "runs"))
    assert prepared.target.front_door.dns is not None and prepared.scenario == "dns-region-failover"
