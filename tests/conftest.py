"""Shared fixtures: an isolated AFTERSHOCK_HOME and a running lab for end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.labkit import RunningLab, start_test_lab

# `make test` is deterministic (the same examples every run, so CI is never red by chance);
# `make fuzz` explores new examples (profile "explore")
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile("ci")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    """A real lab for one test module (started once, stopped and checked for leftovers afterwards)."""
    home = tmp_path_factory.mktemp("aftershock-home")
    previous = os.environ.get("AFTERSHOCK_HOME")
    os.environ["AFTERSHOCK_HOME"] = str(home)
    running = start_test_lab(Path(home) / "lab")
    try:
        yield running
    finally:
        running.stop()
        if previous is None:
            os.environ.pop("AFTERSHOCK_HOME", None)
        else:
            os.environ["AFTERSHOCK_HOME"] = previous
