"""Shared fixtures of the tests of core, faults, probes and the orchestration layer (each folder's conftest
imports them): a run folder, a lab-kind target file, the configuration an activity
receives, and a fake driver plugged in where drivers plug in (``aftershock.faults.registry.DRIVERS``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.runfolder import RunFolder
from aftershock.core.target import load_target
from aftershock.faults.registry import DRIVERS
from aftershock.lab.topology import DB_NAME, DB_USER
from tests.runkit import FakeDriver, plan_run, write_target


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read the developer's lab or run folder by accident."""
    monkeypatch.setenv("AFTERSHOCK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AFTERSHOCK_RUN_DIR", raising=False)


@pytest.fixture
def run(tmp_path: Path) -> RunFolder:
    """An empty run folder (as ``RunFolder.create`` leaves it)."""
    path = tmp_path / "run"
    (path / "logs").mkdir(parents=True)
    return RunFolder(path)


@pytest.fixture
def target_file(tmp_path: Path) -> Path:
    """A lab-kind target (``runkit.target_data``): two regions, a database with its writer in us-east-1b."""
    path: Path = write_target(tmp_path / "target.yaml")
    return path


@pytest.fixture
def configuration(target_file: Path, run: RunFolder) -> dict[str, Any]:
    """What Chaos Toolkit passes to an activity once the experiment's configuration is resolved; the run's plan
    (``run.json``, target ``target_file``) is written as ``aftershock run`` writes it."""
    return plan_run(run, target_file)


@pytest.fixture
def driver(target_file: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
    """One :class:`FakeDriver`, plugged into the ``lab`` slot of the driver registry: every activity that
    resolves a driver in this test gets it (tell it to refuse or fail before calling the activity)."""
    fake = FakeDriver(load_target(target_file))
    monkeypatch.setitem(DRIVERS, "lab", lambda target, **_: fake)
    return fake


@dataclass(frozen=True)
class LabHome:
    """An isolated ``$AFTERSHOCK_HOME`` whose ``lab/target.yaml`` and ``lab/secrets.json`` a test writes."""

    root: Path

    @property
    def lab_dir(self) -> Path:
        return self.root / "lab"

    def target(self, **database: Any) -> dict[str, Any]:
        """A minimal valid lab target; ``database`` overrides fields of its database section."""
        db = {"engine": "postgresql", "global_writer_endpoint": "127.0.0.1:6543", "database": DB_NAME,
              "user": DB_USER, "password_from": "lab",
              "clusters": [{"name": "shop-east", "region": "us-east-1", "role": "primary",
                            "instances": [{"name": "a", "az": "us-east-1a", "role": "writer"}]}]}
        db.update(database)
        return {"name": "lab", "kind": "lab",
                "regions": [{"name": "us-east-1", "role": "primary", "azs": ["us-east-1a"]}],
                "front_door": {"url": "http://127.0.0.1:1", "endpoint_groups": [
                    {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb"}]},
                "database": db, "lab": {"control_url": "http://127.0.0.1:2", "home": str(self.lab_dir)}}

    def write_target(self, data: dict[str, Any]) -> None:
        (self.lab_dir / "target.yaml").write_text(yaml.safe_dump(data))

    def write_secrets(self, data: object) -> None:
        (self.lab_dir / "secrets.json").write_text(json.dumps(data))


@pytest.fixture
def lab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LabHome:
    monkeypatch.setenv("AFTERSHOCK_HOME", str(tmp_path / "home"))
    home = LabHome(tmp_path / "home")
    home.lab_dir.mkdir(parents=True)
    return home
