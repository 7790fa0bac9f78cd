"""Reading the fleet's state from the servers themselves (LSNs, timelines, streams, lag)."""

from __future__ import annotations

import re
import time

import psycopg

from aftershock.lab.db.control import FleetControl
from aftershock.lab.db.models import FleetStatus, NodeRole, NodeStatus
from aftershock.lab.db.node import PgNode, WalState, lsn_to_int


def fleet_status(control: FleetControl) -> FleetStatus:
    """Ask every live server; a server that does not answer is reported with its role and ``alive``."""
    snap = control.snapshot()
    by_port = {node.spec.port: node.name for node in control.nodes.values()}
    states: dict[str, WalState | None] = {name: _wal_state(node) for name, node in control.nodes.items()}
    writer_state = states.get(snap.writer) if snap.writer else None
    writer_lsn = lsn_to_int(writer_state.current_lsn) if writer_state else None
    nodes = []
    for name, node in control.nodes.items():
        state = states[name]
        role = snap.roles[name] if node.alive or snap.roles[name] is NodeRole.REBUILDING else NodeRole.DOWN
        nodes.append(_node_status(node, role, state, writer_lsn, by_port, node.spec.region in snap.cut_regions))
    return FleetStatus(writer=snap.writer if snap.writer and snap.roles[snap.writer] is NodeRole.WRITER else None,
                       nodes=tuple(nodes), cut_regions=snap.cut_regions, down_azs=snap.down_azs,
                       lost_regions=snap.lost_regions, taken_at=time.time())


def _wal_state(node: PgNode) -> WalState | None:
    if not node.alive:
        return None
    try:
        return node.wal_state()
    except psycopg.Error:
        return None


def _node_status(node: PgNode, role: NodeRole, state: WalState | None, writer_lsn: int | None,
                 by_port: dict[int, str], cut: bool) -> NodeStatus:
    spec = node.spec
    if state is None:
        return NodeStatus(spec.name, spec.region, spec.az, spec.port, role, alive=node.alive, cut=cut)
    replayed = lsn_to_int(state.replayed_lsn)
    lag = max(0, writer_lsn - replayed) if state.in_recovery and writer_lsn is not None and replayed else None
    upstream_port = state.sender_port or _conninfo_port(state.primary_conninfo)
    return NodeStatus(
        spec.name, spec.region, spec.az, spec.port, role, alive=True, timeline=state.timeline,
        current_lsn=state.current_lsn, received_lsn=state.received_lsn, replayed_lsn=state.replayed_lsn,
        lag_bytes=lag, lag_seconds=_lag_seconds(state, lag),
        upstream=by_port.get(upstream_port) if state.in_recovery and upstream_port else None,
        streaming=state.receiver_status == "streaming", cut=cut,
    )


def _conninfo_port(conninfo: str) -> int | None:
    match = re.search(r"\bport=(\d+)", conninfo)
    return int(match.group(1)) if match else None


def _lag_seconds(state: WalState, lag_bytes: int | None) -> float | None:
    """How far behind in time a replica is: 0 when it has replayed everything the writer wrote (the age of the
    last replayed transaction only grows while the database is idle, which is no lag at all)."""
    if not state.in_recovery:
        return None
    if lag_bytes == 0:
        return 0.0
    return state.replay_age_s
