"""`aftershock lab up --timings fast|aws|FILE`: the profile loads, reaches the lab's parts (Envoy's health checks,
the pod controller, the HPA, the database monitor, the target description) and bad input is refused before
anything starts. The default stays the fast profile. (A full AWS-timed run takes minutes: benchmarks/rto_timings.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.errors import UsageError
from aftershock.core.target import dump_target
from aftershock.lab.config import LabSettings
from aftershock.lab.description import describe_lab
from aftershock.lab.envoy import config
from aftershock.lab.envoy.models import EnvoyLayout
from aftershock.lab.timings import AWS, FAST, load_timings, ready_timeout_s


def test_the_default_is_the_fast_profile() -> None:
    assert FAST.apply(LabSettings()) == LabSettings()
    assert load_timings("fast") is FAST


def test_the_aws_profile_holds_the_published_defaults() -> None:
    settings = load_timings("aws").apply(LabSettings())
    alb, ga = settings.alb_health, settings.ga_health
    assert (alb.interval_s, alb.timeout_s, alb.healthy_threshold, alb.unhealthy_threshold) == (30.0, 5.0, 5, 2)
    assert (ga.interval_s, ga.healthy_threshold, ga.unhealthy_threshold) == (10.0, 3, 3)
    assert (settings.hpa_sync_period_s, settings.hpa_scale_down_stabilization_s) == (15.0, 300.0)
    assert settings.db_detection_interval_s == 5.0
    assert (settings.controller.pod_start_delay_s, settings.controller.readiness_period_s) == (10.0, 10.0)
    assert settings.deployments == LabSettings().deployments  # only the clocks change
    assert ready_timeout_s(settings) == 85.0
    assert settings.identity.export_period_s == 300.0  # the seed's scheduled export: minutes, not the lab's 3 s
    assert settings.identity.table == LabSettings().identity.table


def _health_checks(bootstrap: dict[str, Any]) -> dict[str, dict[str, Any]]:
    clusters = bootstrap["static_resources"]["clusters"]
    return {c["name"]: c["health_checks"][0] for c in clusters if c.get("health_checks")}


def test_the_profile_reaches_envoys_health_checks(tmp_path: Path) -> None:
    settings = AWS.apply(LabSettings())
    layout = EnvoyLayout.allocate()
    checks = _health_checks(config.bootstrap(layout, config.ConfigPaths(tmp_path), settings.ga_health,
                                             settings.alb_health))
    ga = {name: c for name, c in checks.items() if name.startswith("ga-via-")}
    alb = {name: c for name, c in checks.items() if name.startswith("alb-")}
    assert ga and alb
    assert {(c["interval"], c["timeout"], c["healthy_threshold"], c["unhealthy_threshold"]) for c in ga.values()} == {
        ("10.000s", "5.000s", 3, 3)}
    assert {(c["interval"], c["timeout"], c["healthy_threshold"], c["unhealthy_threshold"])
            for c in alb.values()} == {("30.000s", "5.000s", 5, 2)}


def test_a_target_file_gives_its_own_health_checks(tmp_path: Path) -> None:
    """The lab's own target description (which states its checks) read back as a timings file: a round trip."""
    settings = AWS.apply(LabSettings())
    layout = EnvoyLayout.allocate()
    target = describe_lab(settings, layout, "http://127.0.0.1:1", tmp_path, "http://127.0.0.1:2")
    path = tmp_path / "mine.yaml"
    dump_target(target, path)
    custom = path.read_text().replace("interval_s: 30.0", "interval_s: 20.0")
    path.write_text(custom)
    timings = load_timings(str(path))
    assert timings.name == str(path)
    assert timings.alb_health.interval_s == 20.0 and timings.ga_health == AWS.ga_health
    assert timings.hpa_sync_period_s == AWS.hpa_sync_period_s
    assert timings.identity_export_period_s == AWS.identity_export_period_s  # no identity section: the default
    identity = {"pools": [{"region": "us-east-1", "pool_id": "us-east-1_Ab", "client_id": "c1"}],
                "export_period_s": 120.0}
    path.write_text(custom + yaml.safe_dump({"identity": identity}))
    assert load_timings(str(path)).apply(LabSettings()).identity.export_period_s == 120.0


def test_a_bad_profile_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        load_timings("slow")
    assert str(info.value) == ("--timings 'slow' is neither a profile (fast, aws) nor a target file: pass fast, aws "
                               "or the path of a target YAML")
    assert info.value.exit_code == 2


def test_lab_up_refuses_a_bad_profile_before_starting_anything(tmp_path: Path) -> None:
    env = {**os.environ, "AFTERSHOCK_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "aftershock", "lab", "up", "--detach", "--timings", "slow"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--timings 'slow' is neither a profile (fast, aws) nor a target file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home" / "lab" / "supervisor.log").exists()  # nothing started


def test_the_supervisor_takes_the_profile() -> None:
    result = subprocess.run([sys.executable, "-m", "aftershock.lab.supervisor", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert "--timings TIMINGS" in result.stdout and "fast, aws or a target file" in result.stdout
