"""Fixtures for the lab's database fleet tests: a real 3-node PostgreSQL fleet on /dev/shm, torn down always."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aftershock.lab.db import DatabaseFleet, FleetTopology, NodeSpec
from aftershock.lab.ports import free_ports
from aftershock.lab.topology import DB_INSTANCES


@dataclass
class Recorder:
    """Events and topologies the fleet reported, in order (thread-safe appends)."""

    events: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    topologies: list[FleetTopology] = field(default_factory=list)

    def emit(self, kind: str, /, **fields: Any) -> None:
        self.events.append((time.time(), kind, fields))

    def kinds(self, prefix: str = "db.") -> list[str]:
        return [kind for _, kind, _ in self.events if kind.startswith(prefix)]

    def first(self, kind: str, since: float = 0.0) -> tuple[float, dict[str, Any]] | None:
        for ts, k, fields in self.events:
            if k == kind and ts >= since:
                return ts, fields
        return None

    def wait_for(self, kind: str, since: float = 0.0, timeout: float = 30.0) -> tuple[float, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.first(kind, since)
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no {kind} event within {timeout}s; saw {self.kinds()}")


@dataclass
class DbLab:
    """A running fleet, its recorder and the app password (tests only)."""

    fleet: DatabaseFleet
    recorder: Recorder
    password: str
    root: Path

    def app(self, name: str | None = None) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.fleet.conninfo(name, password=self.password), autocommit=True)

    def count(self, name: str | None = None, where: str = "true") -> int:
        with self.app(name) as conn:
            row = conn.execute(f"SELECT count(*) FROM items WHERE {where}").fetchone()
        assert row is not None
        return int(row[0])

    def processes(self) -> list[int]:
        return lab_processes(self.root)

    def insert(self, ids: range, name: str | None = None) -> None:
        with self.app(name) as conn:
            for i in ids:
                conn.execute("INSERT INTO items (id) VALUES (%s)", (i,))


def _init_schema(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")


def lab_processes(root: Path) -> list[int]:
    """Pids of processes whose command line mentions ``root`` (the fleet's servers and tools)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(root).encode() in cmdline:
            found.append(int(proc.name))
    return found


@pytest.fixture
def make_db_lab() -> Iterator[Callable[..., DbLab]]:
    """Build and bootstrap fleets shaped like aftershock.lab.topology.DB_INSTANCES; every one is stopped at teardown."""
    made: list[DbLab] = []

    def make(*, monitor: bool = True, **options: Any) -> DbLab:
        root = Path(f"/dev/shm/aftershock-t{secrets.token_hex(4)}")
        ports = free_ports(len(DB_INSTANCES))
        specs = [NodeSpec(s.name, s.region, s.az, port) for s, port in zip(DB_INSTANCES, ports, strict=True)]
        recorder = Recorder()
        password = secrets.token_urlsafe(18)
        fleet = DatabaseFleet(root, specs, password, recorder.emit, recorder.topologies.append, **options)
        db_lab = DbLab(fleet, recorder, password, root)
        made.append(db_lab)
        fleet.bootstrap(init=_init_schema)
        if monitor:
            fleet.start_monitor()
        return db_lab

    yield make
    for db_lab in made:
        db_lab.fleet.stop()
        leftover = lab_processes(db_lab.root)
        shutil.rmtree(db_lab.root, ignore_errors=True)
        assert leftover == [], f"processes left behind: {leftover}"


@pytest.fixture
def db_lab(make_db_lab: Callable[..., DbLab]) -> DbLab:
    return make_db_lab(rebuild_delay_s=1.0)
