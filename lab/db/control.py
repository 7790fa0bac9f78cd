"""The control plane's state and its building blocks: roles, the writer, fencing, re-attaching and re-cloning.

Every operation that changes the fleet holds :attr:`FleetControl.lock`, so the monitor and the faults never
interleave. The roles, writer and fault sets are only replaced under :attr:`FleetControl.state_lock`, so a status
read sees a consistent snapshot without waiting for a failover to finish.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aftershock.core.errors import DatabaseError
from aftershock.core.procs import wait_until
from aftershock.lab.db.models import Endpoint, FailoverResult, FleetTopology, NodeRole
from aftershock.lab.db.node import PgNode, lsn_to_int
from aftershock.lab.events import Emit


@dataclass(frozen=True)
class Snapshot:
    """The control plane's view at one instant."""

    writer: str | None
    roles: dict[str, NodeRole]
    cut_regions: frozenset[str]
    down_azs: frozenset[str]
    lost_regions: frozenset[str]


class FleetControl:
    """Roles, writer and faults in force, plus the primitive steps every procedure is made of."""

    def __init__(
        self,
        nodes: list[PgNode],
        emit: Emit,
        on_topology_change: Callable[[FleetTopology], None],
        follow_timeout_s: float,
    ) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.emit = emit
        self.on_topology_change = on_topology_change
        self.follow_timeout_s = follow_timeout_s
        self.lock = threading.RLock()
        self.state_lock = threading.Lock()
        self.writer: str | None = None
        self.roles = {node.name: NodeRole.DOWN for node in nodes}
        self.down_since: dict[str, float] = {}
        self.cut_regions: set[str] = set()
        self.down_azs: set[str] = set()
        self.lost_regions: set[str] = set()
        self.failovers: list[FailoverResult] = []
        self._published: FleetTopology | None = None

    # --- state ---------------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self.state_lock:
            return Snapshot(self.writer, dict(self.roles), frozenset(self.cut_regions),
                            frozenset(self.down_azs), frozenset(self.lost_regions))

    def set_role(self, name: str, role: NodeRole) -> None:
        with self.state_lock:
            self.roles[name] = role
            if role is NodeRole.DOWN:
                self.down_since.setdefault(name, time.monotonic())
            else:
                self.down_since.pop(name, None)

    def set_writer(self, name: str) -> None:
        with self.state_lock:
            self.writer = name
            self.roles[name] = NodeRole.WRITER
            self.down_since.pop(name, None)

    def writer_node(self) -> PgNode:
        if self.writer is None or self.roles[self.writer] is not NodeRole.WRITER:
            raise DatabaseError("the database fleet has no writer: restore a region or bring its AZ back up")
        return self.nodes[self.writer]

    def in_region(self, region: str, role: NodeRole | None = None) -> list[PgNode]:
        """Nodes of ``region`` in spec order (optionally only those with ``role`` that are alive)."""
        return [n for n in self.nodes.values() if n.spec.region == region
                and (role is None or (self.roles[n.name] is role and n.alive))]

    def live_readers(self) -> list[PgNode]:
        return [n for n in self.nodes.values() if self.roles[n.name] is NodeRole.READER and n.alive]

    # --- topology ------------------------------------------------------------------------------------------

    def topology(self) -> FleetTopology:
        snap = self.snapshot()
        writer = None
        if snap.writer is not None and snap.roles[snap.writer] is NodeRole.WRITER:
            writer = _endpoint(self.nodes[snap.writer])
        readers: dict[str, tuple[Endpoint, ...]] = {}
        for node in self.nodes.values():
            readers.setdefault(node.spec.region, ())
            if snap.roles[node.name] is NodeRole.READER:
                readers[node.spec.region] += (_endpoint(node),)
        return FleetTopology(writer=writer, readers=readers)

    def publish(self) -> bool:
        """Tell the supervisor where the endpoints now point (only when that changed)."""
        topology = self.topology()
        if topology == self._published:
            return False
        self._published = topology
        self.on_topology_change(topology)
        return True

    # --- steps ---------------------------------------------------------------------------------------------

    def fence(self, node: PgNode, reason: str) -> None:
        """Make sure a writer that lost its role can never accept writes again (kill it)."""
        was_alive = node.alive
        node.crash()
        self.set_role(node.name, NodeRole.DOWN)
        self.emit("db.fenced", instance=node.name, was_alive=was_alive, reason=reason)

    def best_candidate(self, candidates: list[PgNode]) -> PgNode:
        """The replica that received the most WAL (earlier specs win ties)."""
        def received(node: PgNode) -> int:
            try:
                return lsn_to_int(node.wal_state().received_lsn) or 0
            except Exception:  # a replica that cannot answer is the worst candidate, not a failure
                return -1
        scored = [(received(node), -index, node) for index, node in enumerate(candidates)]
        return max(scored, key=lambda item: (item[0], item[1]))[2]

    def promote(self, node: PgNode, previous: str | None, kind: str) -> float:
        node.promote()
        promoted_at = time.time()
        self.set_writer(node.name)
        state = node.wal_state()
        self.emit("db.promoted", instance=node.name, previous=previous, procedure=kind,
                  timeline=state.timeline, lsn=state.current_lsn)
        return promoted_at

    def move_endpoint(self, previous: str | None, started: float) -> float:
        self.publish()
        moved_at = time.time()
        writer = self.writer_node()
        self.emit("db.endpoint_moved", writer=writer.name, port=writer.spec.port, previous=previous,
                  elapsed_s=round(moved_at - started, 3))
        return moved_at

    def write_marker(self) -> str:
        token = uuid.uuid4().hex
        self.writer_node().execute("INSERT INTO lab_marker (token) VALUES (%s)", (token,))
        return token

    def follow(self, node: PgNode, *, restart: bool = False) -> str:
        """Make a replica follow the current writer and prove it with a marker row; re-clone when it cannot.

        Returns ``"reattached"``, ``"recloned"`` or ``"cut"`` (a replica of a cut region stays cut).
        """
        writer = self.writer_node()
        if node.spec.region in self.cut_regions:
            if node.alive:
                node.set_upstream("")
            return "cut"
        conninfo = node.upstream_conninfo(writer.spec.port)
        try:
            if restart:  # a cleanly stopped former writer: start it as a replica of the new one
                node.write_standby_config(conninfo)
                node.start()
            else:
                node.set_upstream(conninfo)
            token = self.write_marker()
            followed = wait_until(lambda: node.has_marker(token), timeout=self.follow_timeout_s)
        except DatabaseError:
            followed = False
        except Exception:  # a psycopg error from a broken replica: re-clone it below
            followed = False
        if followed:
            self.set_role(node.name, NodeRole.READER)
            self.publish()
            self.emit("db.reattached", instance=node.name, writer=writer.name)
            return "reattached"
        self.reclone(node, reason="did not follow the new writer")
        return "recloned"

    def reclone(self, node: PgNode, reason: str, event: str = "db.recloned") -> None:
        """Rebuild a replica from a fresh base backup of the writer (stop, clone, start, verify)."""
        writer = self.writer_node()
        started = time.monotonic()
        self.set_role(node.name, NodeRole.REBUILDING)
        self.publish()
        node.stop(grace=5.0)
        node.clone_from(writer)
        if node.spec.region in self.cut_regions:  # a replica of a cut region comes back cut
            node.write_standby_config("")
        node.start()
        if node.spec.region not in self.cut_regions:
            token = self.write_marker()
            if not wait_until(lambda: node.has_marker(token), timeout=30.0):
                raise DatabaseError(
                    f"re-cloned replica {node.name} does not follow writer {writer.name}: "
                    f"see {node.layout.log(node.name)}"
                )
        self.set_role(node.name, NodeRole.READER)
        self.publish()
        self.emit(event, instance=node.name, writer=writer.name, reason=reason,
                  elapsed_s=round(time.monotonic() - started, 3))


def _endpoint(node: PgNode) -> Endpoint:
    return Endpoint(name=node.name, region=node.spec.region, az=node.spec.az, port=node.spec.port)
