"""The three ways the writer changes: in-region failover, global switchover, global failover.

Each runs under the control lock and records a :class:`FailoverResult`. Fencing always comes before promotion:
a frozen writer that comes back is read-write again (split brain was reproduced, lab-parts.md).
"""

from __future__ import annotations

import re
import time

from aftershock.core import procs
from aftershock.core.errors import DatabaseError
from aftershock.lab.db.control import FleetControl
from aftershock.lab.db.environment import server_env
from aftershock.lab.db.models import FailoverResult, NodeRole
from aftershock.lab.db.node import PgNode, lsn_to_int


def in_region_failover(control: FleetControl, reason: str, delay_s: float) -> FailoverResult | None:
    """RDS-like automatic failover: promote the in-region replica that received the most WAL.

    Returns None when the region has no live replica: the writer is then restarted in place (crash recovery),
    unless its AZ is down, in which case the fleet has no writer until the AZ comes back.
    """
    old = control.writer_node()
    started = time.time()
    control.emit("db.writer_down", instance=old.name, region=old.spec.region, az=old.spec.az, reason=reason)
    control.set_role(old.name, NodeRole.DOWN)
    if delay_s > 0:
        time.sleep(delay_s)
    control.fence(old, reason="writer failed")
    candidates = control.in_region(old.spec.region, NodeRole.READER)
    if not candidates:
        _restart_in_place(control, old)
        return None
    best = control.best_candidate(candidates)
    promoted_at = control.promote(best, previous=old.name, kind="in-region")
    moved_at = control.move_endpoint(old.name, started)
    outcomes = {node.name: control.follow(node) for node in control.live_readers()}
    return _record(control, "in-region", old.name, best.name, started, promoted_at, moved_at, outcomes)


def switchover_global(control: FleetControl, target: PgNode) -> FailoverResult:
    """Planned move of the writer to ``target``'s region with no data loss.

    The old writer is shut down cleanly (its shutdown checkpoint is streamed to the replicas), the target waits
    until it has replayed that checkpoint, is promoted, and the old writer restarts as its replica: a clean
    shutdown lets it follow the new timeline without pg_rewind. Every replica is verified with a marker row.
    """
    old = control.writer_node()
    started = time.time()
    control.emit("db.switchover_started", instance=old.name, target=target.name)
    old.stop(grace=30.0)
    try:
        checkpoint = _shutdown_checkpoint(old)
    except DatabaseError:
        old.start()  # nothing moved yet: the old writer keeps its role
        raise
    caught_up = procs.wait_until(lambda: _replayed_past(target, checkpoint), timeout=30.0)
    if not caught_up:
        old.start()
        raise DatabaseError(
            f"switchover aborted: {target.name} did not replay the writer's shutdown checkpoint within 30s; "
            f"{old.name} was restarted as writer - check replication to {target.spec.region}"
        )
    control.set_role(old.name, NodeRole.DOWN)
    promoted_at = control.promote(target, previous=old.name, kind="switchover")
    moved_at = control.move_endpoint(old.name, started)
    outcomes = {old.name: control.follow(old, restart=True)}
    outcomes.update({n.name: control.follow(n) for n in control.live_readers() if n.name not in outcomes})
    return _record(control, "switchover", old.name, target.name, started, promoted_at, moved_at, outcomes)


def failover_global(control: FleetControl, region: str, reason: str) -> FailoverResult:
    """Unplanned move of the writer to ``region``: the writer's region is fenced whole, then the target region's
    replica that received the most WAL is promoted whatever it missed (data loss allowed, like Aurora's
    "detach and promote")."""
    old_name = control.writer
    old_region = control.nodes[old_name].spec.region if old_name else None
    started = time.time()
    if old_region is not None:
        with control.state_lock:
            control.lost_regions.add(old_region)
        for node in control.in_region(old_region):
            if node.alive or control.roles[node.name] is not NodeRole.DOWN:
                control.fence(node, reason=f"region {old_region} failed over")
    best = control.best_candidate(control.in_region(region, NodeRole.READER))
    promoted_at = control.promote(best, previous=old_name, kind="global-failover")
    with control.state_lock:
        control.cut_regions.discard(region)  # the writer's own region has no cross-region stream to cut
    moved_at = control.move_endpoint(old_name, started)
    outcomes = {node.name: control.follow(node) for node in control.live_readers()}
    control.emit("db.global_failover", writer=best.name, lost_region=old_region, reason=reason)
    return _record(control, "global-failover", old_name, best.name, started, promoted_at, moved_at, outcomes)


def _restart_in_place(control: FleetControl, old: PgNode) -> None:
    if old.spec.az in control.down_azs:
        control.publish()
        control.emit("db.no_writer", instance=old.name, reason=f"no live replica in {old.spec.region} and "
                     f"{old.spec.az} is down")
        return
    old.start()
    control.set_writer(old.name)
    control.publish()
    control.emit("db.writer_restarted", instance=old.name, reason=f"no live replica in {old.spec.region}")


def _shutdown_checkpoint(node: PgNode) -> int:
    """The location of the shutdown checkpoint a cleanly stopped server wrote last (pg_controldata)."""
    out = procs.run([node.bins.tool("pg_controldata"), "-D", str(node.data_dir)], user=node.user,
                    env=server_env()).stdout
    state = re.search(r"Database cluster state:\s*(.+)", out)
    location = re.search(r"Latest checkpoint location:\s*([0-9A-F]+/[0-9A-F]+)", out)
    if not state or state.group(1).strip() != "shut down" or not location:
        raise DatabaseError(f"{node.name} did not shut down cleanly: see {node.layout.log(node.name)}")
    return lsn_to_int(location.group(1)) or 0


def _replayed_past(node: PgNode, lsn: int) -> bool:
    try:
        replayed = lsn_to_int(node.wal_state().replayed_lsn)
    except Exception:  # a replica that cannot answer right now has not caught up yet
        return False
    return replayed is not None and replayed > lsn


def _record(control: FleetControl, kind: str, old: str | None, new: str, started: float, promoted_at: float,
            moved_at: float, outcomes: dict[str, str]) -> FailoverResult:
    result = FailoverResult(
        kind=kind, old_writer=old, new_writer=new, started_at=started, promoted_at=promoted_at,
        endpoint_moved_at=moved_at, finished_at=time.time(),
        reattached=tuple(n for n, o in outcomes.items() if o == "reattached"),
        recloned=tuple(n for n, o in outcomes.items() if o == "recloned"),
    )
    control.failovers.append(result)
    return result
