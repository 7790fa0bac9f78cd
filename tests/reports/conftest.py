"""Fixtures: synthetic run folders (see reportkit.py), a real lab run (data/), an isolated AFTERSHOCK_HOME."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.reports.reportkit import DATA, MakeRun, make_run


@pytest.fixture
def run_factory(tmp_path: Path) -> MakeRun:
    """``run_factory(rto_s=..., partial=...)`` -> a fresh run folder under tmp_path."""
    counter = iter(range(1000))

    def build(**kwargs: Any) -> Path:
        kwargs.setdefault("name", f"20261121T1226{next(counter):02d}Z-pod-kill")
        return make_run(tmp_path / "runs", **kwargs)

    return build


@pytest.fixture
def real_run(tmp_path: Path) -> Path:
    """A copy of a real lab run (aurora-global-failover) with every file a finished run has."""
    target = tmp_path / "20261121T122920Z-aurora-global-failover"
    shutil.copytree(DATA / "aurora-global-failover", target)
    return target


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "aftershock-home"
    monkeypatch.setenv("AFTERSHOCK_HOME", str(home))
    return home
