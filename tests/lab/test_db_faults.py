"""Refused faults: a clear one-line message, and nothing changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aftershock.core.errors import FaultRefused

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.lab.conftest import DbLab

pytestmark = pytest.mark.timeout(120)


def _shape(db_lab: DbLab) -> tuple[object, ...]:
    status = db_lab.fleet.status()
    return (status.writer, tuple((n.name, n.role, n.alive) for n in status.nodes), status.cut_regions,
            status.down_azs, status.lost_regions)


def test_refused_faults_change_nothing(make_db_lab: Callable[..., DbLab]) -> None:
    db_lab = make_db_lab(monitor=False)
    db_lab.fleet.crash_node("shop-west-a")
    before = _shape(db_lab)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: db_lab.fleet.crash_node("shop-north-a"),
         "unknown database instance 'shop-north-a': use one of shop-east-a, shop-east-b, shop-west-a"),
        (lambda: db_lab.fleet.crash_node("shop-west-a"),
         "database instance shop-west-a is already down: wait for its rebuild or pick another"),
        (lambda: db_lab.fleet.switchover_global("eu-west-1"),
         "unknown region 'eu-west-1': use one of us-east-1, us-west-2"),
        (lambda: db_lab.fleet.failover_global("us-east-1"),
         "the writer shop-east-a is already in us-east-1: pick the other region"),
        (lambda: db_lab.fleet.switchover_global("us-west-2"),
         "us-west-2 has no live replica to promote: restore the region first"),
        (lambda: db_lab.fleet.cut_replication("us-west-2"),
         "us-west-2 has no live replica whose replication could be cut"),
        (lambda: db_lab.fleet.restore_replication("us-east-1"),
         "replication to us-east-1 is not cut: nothing to restore"),
        (lambda: db_lab.fleet.set_az_down("us-east-1z", True),
         "unknown AZ 'us-east-1z': use one of us-east-1a, us-east-1b, us-east-1c, us-west-2a, us-west-2b, "
         "us-west-2c"),
        (lambda: db_lab.fleet.set_az_down("us-east-1c", False), "AZ us-east-1c is already up: nothing to change"),
        (lambda: db_lab.fleet.restore_primary_region(), "no region was lost in a global failover: nothing to restore"),
    ]
    for call, message in cases:
        with pytest.raises(FaultRefused) as info:
            call()
        assert str(info.value) == message
        assert _shape(db_lab) == before
    assert [k for k in db_lab.recorder.kinds() if k != "db.bootstrapped"] == ["db.crashed"]


def test_cut_twice_is_refused(db_lab: DbLab) -> None:
    db_lab.fleet.cut_replication("us-west-2")
    with pytest.raises(FaultRefused, match=r"^replication to us-west-2 is already cut: call restore_replication"):
        db_lab.fleet.cut_replication("us-west-2")
    assert db_lab.fleet.status().cut_regions == {"us-west-2"}
