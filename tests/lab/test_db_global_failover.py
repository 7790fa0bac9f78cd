"""Cut replication, then unplanned global failover: exactly the writes after the cut are lost (a real RPO)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from aftershock.lab.db import NodeRole

if TYPE_CHECKING:
    from tests.lab.conftest import DbLab

pytestmark = pytest.mark.timeout(180)

BEFORE = range(0, 40)
AFTER = range(1000, 1025)  # K = 25 writes after the cut


def test_cut_then_global_failover_loses_exactly_the_writes_after_the_cut(db_lab: DbLab) -> None:
    db_lab.insert(BEFORE)
    assert db_lab.fleet.wait_replicated(timeout=10)
    db_lab.fleet.cut_replication("us-west-2")
    assert db_lab.fleet.status().node("shop-west-a").cut
    db_lab.insert(AFTER)
    assert db_lab.count() == len(BEFORE) + len(AFTER)
    time.sleep(0.5)  # a stream that was not really cut would deliver them now
    assert db_lab.count("shop-west-a") == len(BEFORE)

    result = db_lab.fleet.failover_global("us-west-2")
    print(f"global failover: endpoint moved {result.endpoint_move_s:.3f}s after the request")
    assert result.new_writer == "shop-west-a" and result.old_writer == "shop-east-a"
    assert db_lab.fleet.writer == "shop-west-a"
    assert db_lab.count() == len(BEFORE)
    assert db_lab.count(where=f"id >= {AFTER.start}") == 0
    assert db_lab.count(where=f"id < {BEFORE.stop}") == len(BEFORE)

    status = db_lab.fleet.status()
    assert status.lost_regions == {"us-east-1"} and status.cut_regions == frozenset()
    assert {status.node(n).role for n in ("shop-east-a", "shop-east-b")} == {NodeRole.DOWN}
    topology = db_lab.recorder.topologies[-1]
    assert topology.writer is not None and topology.writer.name == "shop-west-a"
    assert topology.readers_in("us-east-1") == ()
    time.sleep(1.5)  # longer than rebuild_delay_s: a lost region is not rebuilt on its own
    assert db_lab.recorder.first("db.reader_rebuilt") is None

    db_lab.insert(range(2000, 2010))
    assert sorted(db_lab.fleet.restore_primary_region()) == ["shop-east-a", "shop-east-b"]
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-east-b") == len(BEFORE) + 10

    db_lab.fleet.switchover_global("us-east-1")
    status = db_lab.fleet.status()
    assert status.writer == "shop-east-a"
    assert {status.node(n).upstream for n in ("shop-east-b", "shop-west-a")} == {"shop-east-a"}
    assert db_lab.count() == len(BEFORE) + 10


def test_restore_replication_catches_up(db_lab: DbLab) -> None:
    db_lab.fleet.cut_replication("us-west-2")
    db_lab.insert(range(30))
    assert db_lab.count("shop-west-a") == 0
    assert db_lab.fleet.restore_replication("us-west-2") == {"shop-west-a": "reattached"}
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-west-a") == 30
    assert db_lab.fleet.status().node("shop-west-a").streaming
