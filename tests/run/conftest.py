"""Fixtures of the run-layer tests: a run folder, a lab-kind target file, the configuration an activity
receives, and a fake driver plugged in where drivers plug in (``aftershock.faults.registry.DRIVERS``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftershock.core.runfolder import RunFolder
from aftershock.core.target import load_target
from aftershock.faults.registry import DRIVERS
from tests.run.runkit import FakeDriver, plan_run, write_target


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
    monkeypatch.setitem(DRIVERS, "lab", lambda target: fake)
    return fake
