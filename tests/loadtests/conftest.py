"""Fixtures for the load tests (helpers live in ``loadkit.py``). Locust only ever runs as a subprocess."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.loadtests.loadkit import Procs, StandinShop, free_port


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[StandinShop]:
    """A running stand-in shop (``ok`` mode), killed afterwards."""
    server = StandinShop(free_port(), tmp_path / "standin.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_shop(tmp_path: Path) -> Iterator[Callable[[str], StandinShop]]:
    """Factory for stand-in shops in another mode (``bad-body``, ``503``), all stopped afterwards."""
    made: list[StandinShop] = []

    def make(mode: str) -> StandinShop:
        server = StandinShop(free_port(), tmp_path / f"standin-{mode}.log", mode=mode)
        made.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


@pytest.fixture
def procs() -> Iterator[Procs]:
    """Track subprocesses; all are killed and reaped at the end of the test."""
    tracker = Procs()
    try:
        yield tracker
    finally:
        tracker.cleanup()
