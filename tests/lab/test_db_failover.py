"""In-region failover by the monitor: a crashed writer is replaced by its in-region replica within about a second."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from aftershock.lab.db import NodeRole

if TYPE_CHECKING:
    from tests.lab.conftest import DbLab

pytestmark = pytest.mark.timeout(120)


def test_crashed_writer_fails_over_in_region(db_lab: DbLab) -> None:
    db_lab.insert(range(50))
    assert db_lab.fleet.wait_replicated(timeout=10)
    crashed_at = time.time()
    assert db_lab.fleet.crash_writer() == "shop-east-a"

    down_ts, down = db_lab.recorder.wait_for("db.writer_down", since=crashed_at, timeout=10)
    moved_ts, moved = db_lab.recorder.wait_for("db.endpoint_moved", since=crashed_at, timeout=20)
    print(f"detected {down_ts - crashed_at:.3f}s, endpoint moved {moved_ts - crashed_at:.3f}s after the crash")
    assert down["instance"] == "shop-east-a"
    assert moved["writer"] == "shop-east-b"
    assert down_ts - crashed_at < 2.0  # ~0.2 s when the machine is idle; generous for a busy 2-core box
    assert moved_ts - crashed_at < 5.0

    topology = db_lab.recorder.topologies[-1]
    assert topology.writer is not None and topology.writer.name == "shop-east-b"
    assert db_lab.fleet.writer == "shop-east-b"
    db_lab.insert(range(50, 60))  # writes succeed on the new writer
    assert db_lab.count() == 60

    db_lab.recorder.wait_for("db.reattached", since=crashed_at, timeout=20)
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-west-a") == 60
    assert db_lab.fleet.status().node("shop-west-a").upstream == "shop-east-b"

    db_lab.recorder.wait_for("db.reader_rebuilt", since=crashed_at, timeout=60)
    kinds = [k for k in db_lab.recorder.kinds() if k in {"db.writer_down", "db.fenced", "db.promoted",
                                                      "db.endpoint_moved", "db.reattached", "db.reader_rebuilt"}]
    assert kinds == ["db.writer_down", "db.fenced", "db.promoted", "db.endpoint_moved", "db.reattached",
                     "db.reader_rebuilt"]
    status = db_lab.fleet.status()
    assert status.node("shop-east-a").role is NodeRole.READER
    assert status.node("shop-east-a").upstream == "shop-east-b"
    assert status.node("shop-east-a").timeline == 2
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-east-a") == 60
    [result] = db_lab.fleet.failovers
    assert (result.kind, result.old_writer, result.new_writer) == ("in-region", "shop-east-a", "shop-east-b")
    readers = db_lab.recorder.topologies[-1].readers_in("us-east-1")
    assert [e.name for e in readers] == ["shop-east-a"]


def test_crashed_reader_leaves_endpoint_and_is_rebuilt(db_lab: DbLab) -> None:
    crashed_at = time.time()
    db_lab.fleet.crash_node("shop-west-a")
    assert db_lab.recorder.topologies[-1].readers_in("us-west-2") == ()
    db_lab.recorder.wait_for("db.reader_rebuilt", since=crashed_at, timeout=60)
    assert [e.name for e in db_lab.recorder.topologies[-1].readers_in("us-west-2")] == ["shop-west-a"]
    db_lab.insert(range(5))
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-west-a") == 5


def test_az_down_moves_writer_and_blocks_rebuild_until_up(db_lab: DbLab) -> None:
    since = time.time()
    db_lab.fleet.set_az_down("us-east-1a", True)
    db_lab.recorder.wait_for("db.endpoint_moved", since=since, timeout=20)
    time.sleep(2.0)  # longer than rebuild_delay_s: nothing may be rebuilt in a down AZ
    assert db_lab.recorder.first("db.reader_rebuilt", since) is None
    assert db_lab.fleet.status().node("shop-east-a").role is NodeRole.DOWN

    db_lab.fleet.set_az_down("us-east-1a", False)
    status = db_lab.fleet.status()
    assert status.writer == "shop-east-b"
    assert status.node("shop-east-a").role is NodeRole.READER
    assert db_lab.fleet.wait_replicated(timeout=10)


def test_replica_ahead_of_the_promoted_one_is_recloned(db_lab: DbLab) -> None:
    """The in-region replica is cut, so the cross-region one holds more WAL than the one promoted: it cannot
    follow the new timeline, the marker row never shows, and the control plane re-clones it."""
    db_lab.insert(range(20))
    assert db_lab.fleet.wait_replicated(timeout=10)
    db_lab.fleet.cut_replication("us-east-1")
    db_lab.insert(range(100, 110))
    assert db_lab.fleet.wait_replicated(timeout=10)  # shop-west-a has them, shop-east-b does not
    assert db_lab.count("shop-west-a") == 30

    since = time.time()
    db_lab.fleet.crash_writer()
    db_lab.recorder.wait_for("db.recloned", since=since, timeout=60)
    [result] = db_lab.fleet.failovers
    assert result.new_writer == "shop-east-b" and result.recloned == ("shop-west-a",)
    assert db_lab.count() == 20  # the 10 writes after the cut are lost: the promoted replica never got them
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-west-a") == 20
    assert db_lab.fleet.status().node("shop-west-a").upstream == "shop-east-b"
