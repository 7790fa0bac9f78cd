"""Bad experiment or target files: a one-line error naming the file and the field, exit 2, no fault injected."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.labkit import RunningLab

pytestmark = pytest.mark.slow
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "az-outage.yaml"


def aftershock(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "300"})


def broken(tmp_path: Path, change: str) -> Path:
    data = yaml.safe_load(EXPERIMENT.read_text())
    if change == "unknown-argument":
        data["method"][0]["provider"]["arguments"] = {"zone": "us-east-1a"}
    elif change == "no-control":
        data["controls"] = []
    elif change == "unknown-function":
        data["method"][0]["provider"]["func"] = "melt_the_datacenter"
    path = tmp_path / f"{change}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(("change", "message"), [
    ("unknown-argument", "method[0] 'lose-the-writer-az': "
     "aftershock.faults.actions.az_outage() has no argument 'zone'; "
                         "use one of: az"),
    ("no-control", "controls must declare the aftershock control"),
    ("unknown-function", "method[0] 'lose-the-writer-az': "
     "aftershock.faults.actions has no function 'melt_the_datacenter'; "
                         "fix provider.func"),
])
def test_bad_experiment_is_refused_before_any_fault(lab: RunningLab, tmp_path: Path, change: str,
                                                    message: str) -> None:
    started = time.time()
    path = broken(tmp_path, change)
    result = aftershock("run", str(path), "--out", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}: {message}" or (
        change == "no-control" and result.stderr.startswith(f"error: {path}: {message}"))
    assert not (tmp_path / "runs").exists(), "no run folder: nothing started"
    assert not [e for e in lab.events(since=started) if e["kind"] == "fault.injected"]


def test_malformed_yaml_and_bad_target_file(lab: RunningLab, tmp_path: Path) -> None:
    started = time.time()
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("title: [unclosed\n")
    result = aftershock("run", str(bad_yaml))
    assert result.returncode == 2 and f"{bad_yaml}: cannot be loaded" in result.stderr
    target = tmp_path / "target.yaml"
    target.write_text(yaml.safe_dump({"name": "t", "kind": "aws", "regions": [], "front_door": {}}))
    result = aftershock("run", str(EXPERIMENT), "--target", str(target))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"error: {target}: invalid target, regions: ")
    result = aftershock("run", str(EXPERIMENT), "--users", "-3")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --users -3 must be at least 1: pass a positive number of users"
    assert not [e for e in lab.events(since=started) if e["kind"] == "fault.injected"]


def test_dry_run_injects_nothing(lab: RunningLab, tmp_path: Path) -> None:
    started = time.time()
    result = aftershock("run", str(EXPERIMENT), "--dry-run", "--out", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert "aftershock.faults.actions.az_outage(az='')" in result.stdout
    assert "dry run: nothing was injected" in result.stdout
    assert not (tmp_path / "runs").exists()
    assert not [e for e in lab.events(since=started) if e["kind"] == "fault.injected"]
