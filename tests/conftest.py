"""Shared fixtures: an isolated AFTERSHOCK_HOME and a running lab shared by the end-to-end tests."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from tests.labkit import RunningLab, start_test_lab

# Tests press Ctrl-C (SIGINT to this process or to a child). A runner that started pytest with SIGINT ignored (a
# background job of a shell without job control) would make Ctrl-C do nothing here and in every child, so the
# test process takes Python's own handler back; children then start with the default disposition.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# `make test` is deterministic (the same examples every run, so CI is never red by chance);
# `make fuzz` explores new examples (profile "explore")
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile("ci")


class _SharedLab:
    """One real lab for every end-to-end module: starting one costs ~12 s on 2 cores, and a dozen modules use it.
    Each module gets it back at its baseline (faults undone, healthy); a lab that cannot be brought back is
    stopped and the next module starts a fresh one, so no module inherits another's damage."""

    def __init__(self, factory: pytest.TempPathFactory, front_door: str = "global-accelerator") -> None:
        self._factory = factory
        self.front_door = front_door
        self.home: Path | None = None
        self.running: RunningLab | None = None

    def acquire(self) -> RunningLab:
        if self.running is None:
            self.home = self._factory.mktemp("aftershock-home")
            self.running = start_test_lab(self.home / "lab", self.front_door)
        return self.running

    def release(self) -> None:
        if self.running is not None and not self.running.back_to_baseline():
            self.close()

    def close(self) -> None:
        running, self.running = self.running, None
        if running is not None:
            running.stop()


@pytest.fixture(scope="session")
def _shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_SharedLab]:
    shared = _SharedLab(tmp_path_factory)
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture(scope="session")
def _shared_route53_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_SharedLab]:
    shared = _SharedLab(tmp_path_factory, front_door="route53-failover")
    try:
        yield shared
    finally:
        shared.close()


@contextmanager
def _lent(shared: _SharedLab) -> Iterator[RunningLab]:
    """``shared``'s lab for one module, with ``$AFTERSHOCK_HOME`` pointing at it; back to its baseline after."""
    running = shared.acquire()
    previous = os.environ.get("AFTERSHOCK_HOME")
    os.environ["AFTERSHOCK_HOME"] = str(shared.home)
    try:
        yield running
    finally:
        if previous is None:
            os.environ.pop("AFTERSHOCK_HOME", None)
        else:
            os.environ["AFTERSHOCK_HOME"] = previous
        shared.release()


@pytest.fixture(scope="module")
def lab(_shared_lab: _SharedLab) -> Iterator[RunningLab]:
    """A real lab for a test module (shared between modules, at its baseline when handed over; stopped and
    checked for leftovers at the end of the session). ``$AFTERSHOCK_HOME`` points at it during the module."""
    with _lent(_shared_lab) as running:
        yield running


@pytest.fixture(scope="module")
def route53_lab(_shared_route53_lab: _SharedLab) -> Iterator[RunningLab]:
    """As :func:`lab`, with ``--front-door route53-failover`` (clients resolve the shop through the lab's DNS)."""
    with _lent(_shared_route53_lab) as running:
        yield running
