"""Planned global switchover: no acknowledged write is lost, and the old region follows the new writer."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg
import pytest

from aftershock.lab.db import NodeRole

if TYPE_CHECKING:
    from tests.lab.conftest import DbLab

pytestmark = pytest.mark.timeout(180)


@dataclass
class Writer:
    """Inserts increasing ids through a multi-host conninfo that always looks for the read-write server."""

    conninfo: str
    first_id: int = 0
    acked: set[int] = field(default_factory=set)
    in_doubt: set[int] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        next_id = self.first_id
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.conninfo, autocommit=True)
            except psycopg.OperationalError:
                time.sleep(0.05)
                continue
            try:
                conn.execute("INSERT INTO items (id) VALUES (%s)", (next_id,))
                self.acked.add(next_id)
            except psycopg.Error:
                self.in_doubt.add(next_id)  # committed or not: the acknowledgement never came
                conn.close()
                conn = None
            next_id += 1
        if conn is not None:
            conn.close()


def _multi_host(db_lab: DbLab) -> str:
    ports = ",".join(str(s.port) for s in db_lab.fleet.specs)
    hosts = ",".join("127.0.0.1" for _ in db_lab.fleet.specs)
    return (f"host={hosts} port={ports} dbname=shop user=shop password={db_lab.password} "
            "target_session_attrs=read-write connect_timeout=2")


def _switch_under_writes(db_lab: DbLab, to_region: str, first_id: int = 0) -> tuple[Writer, float]:
    writer = Writer(_multi_host(db_lab), first_id=first_id)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        assert db_lab.fleet.wait_replicated(timeout=10)
        time.sleep(0.5)
        started = time.monotonic()
        db_lab.fleet.switchover_global(to_region)
        elapsed = time.monotonic() - started
        time.sleep(0.5)  # the writer finds the new primary and writes there too
    finally:
        writer.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    return writer, elapsed


def _present(db_lab: DbLab) -> set[int]:
    with db_lab.app() as conn:
        return {int(row[0]) for row in conn.execute("SELECT id FROM items")}


def test_switchover_loses_no_acknowledged_write_and_switches_back(db_lab: DbLab) -> None:
    writer, elapsed = _switch_under_writes(db_lab, "us-west-2")
    present = _present(db_lab)
    print(f"switchover to us-west-2: {elapsed:.3f}s; acked {len(writer.acked)}, in doubt {len(writer.in_doubt)}")
    assert len(writer.acked) > 50
    assert writer.acked <= present, f"lost acknowledged writes: {sorted(writer.acked - present)[:10]}"
    assert present <= writer.acked | writer.in_doubt

    status = db_lab.fleet.status()
    assert status.writer == "shop-west-a"
    for name in ("shop-east-a", "shop-east-b"):
        assert status.node(name).role is NodeRole.READER
        assert status.node(name).upstream == "shop-west-a"
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-east-a") == len(present)
    topology = db_lab.recorder.topologies[-1]
    assert topology.writer is not None and topology.writer.name == "shop-west-a"
    assert {e.name for e in topology.readers_in("us-east-1")} == {"shop-east-a", "shop-east-b"}

    back, elapsed_back = _switch_under_writes(db_lab, "us-east-1", first_id=10_000_000)
    print(f"switchover back to us-east-1: {elapsed_back:.3f}s; acked {len(back.acked)}, in doubt {len(back.in_doubt)}")
    assert db_lab.fleet.writer == "shop-east-a"
    now_present = _present(db_lab)
    assert writer.acked | back.acked <= now_present
    assert now_present <= writer.acked | writer.in_doubt | back.acked | back.in_doubt
    status = db_lab.fleet.status()
    assert status.node("shop-west-a").role is NodeRole.READER
    assert status.node("shop-west-a").upstream == "shop-east-a"
    assert [r.recloned for r in db_lab.fleet.failovers] == [(), ()]
