"""DatabaseFleet: the Aurora-Global-Database-like control plane of the lab.

Runs as root or as a normal user. As root, PostgreSQL refuses to run, so every server and tool runs as
``nobody`` (:func:`aftershock.core.procs.service_user`) and the fleet root is handed to it: put the root under
``/dev/shm``
(fast tmpfs, every parent traversable). As a normal user the servers run as that user and any short path works.

Example::

    specs = [NodeSpec("shop-east-a", "us-east-1", "us-east-1a", p1), NodeSpec("shop-east-b", ...), ...]
    fleet = DatabaseFleet(Path("/dev/shm/aftershock-1234/db"), specs, password, emit=events,
                          on_topology_change=point_envoy)
    fleet.bootstrap(init=lambda conninfo: load_schema(conninfo))
    fleet.start_monitor()
    fleet.crash_writer()          # the monitor fails over to shop-east-b within about a second
    fleet.stop()
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import make_conninfo

from aftershock.core import procs
from aftershock.core.errors import DatabaseError, FaultRefused
from aftershock.lab import topology
from aftershock.lab.db import procedures
from aftershock.lab.db.binaries import find_binaries
from aftershock.lab.db.control import FleetControl
from aftershock.lab.db.layout import FleetLayout
from aftershock.lab.db.models import BootstrapResult, FailoverResult, FleetStatus, FleetTopology, NodeRole, NodeSpec
from aftershock.lab.db.monitor import FleetMonitor
from aftershock.lab.db.node import PgNode
from aftershock.lab.db.status import fleet_status
from aftershock.lab.db.template import copy_template, ensure_template
from aftershock.lab.events import Emit


def default_cache_dir() -> Path:
    """Where the initdb template is cached: tmpfs, per user, reachable by ``nobody``."""
    return Path(f"/dev/shm/aftershock-pgcache-{os.getuid()}")


class DatabaseFleet:
    """One writer and streaming readers over regions/AZs, with RDS-like failover and global-database faults.

    ``nodes[0]`` is the initial writer. ``on_topology_change`` receives a :class:`FleetTopology` whenever the
    writer endpoint or a region's reader endpoint must point elsewhere. The password is kept in memory and in a
    0600 passfile; it never appears in argv, logs or events.
    """

    def __init__(
        self,
        root: Path,
        nodes: list[NodeSpec],
        password: str,
        emit: Emit,
        on_topology_change: Callable[[FleetTopology], None],
        detection_interval_s: float = 0.2,
        failover_delay_s: float = 0.0,
        *,
        rebuild_delay_s: float = 5.0,
        follow_timeout_s: float = 2.0,
        failure_threshold: int = 3,
        cache_dir: Path | None = None,
    ) -> None:
        _validate_specs(nodes, password)
        self.layout = FleetLayout(root)
        self.specs = tuple(nodes)
        self._password = password
        self._cache_dir = cache_dir or default_cache_dir()
        self._user = procs.service_user()
        self._bins = find_binaries(self._user)
        self._emit = emit
        self._control = FleetControl([PgNode(s, self.layout, self._bins, self._user) for s in nodes],
                                     emit, on_topology_change, follow_timeout_s)
        self._monitor = FleetMonitor(self._control, interval_s=detection_interval_s,
                                     failure_threshold=failure_threshold, failover_delay_s=failover_delay_s,
                                     rebuild_delay_s=rebuild_delay_s)

    def __repr__(self) -> str:
        return f"DatabaseFleet(root={str(self.layout.root)!r}, writer={self._control.writer!r})"

    # --- lifecycle -----------------------------------------------------------------------------------------

    def bootstrap(self, init: Callable[[str], None] | None = None) -> BootstrapResult:
        """Start the writer from the cached template, create role and database, run ``init(conninfo)`` (the
        conninfo holds the password, in memory only), then clone and start every reader and wait until each
        streams (proved by a marker row). On failure, call :meth:`stop` to remove what was started."""
        started = time.monotonic()
        control = self._control
        with control.lock:
            if control.writer is not None:
                raise DatabaseError(f"database fleet in {self.layout.root} is already bootstrapped: stop() it first")
            self.layout.create(self._user, self._password)
            template = ensure_template(self._cache_dir, self._bins, self._user)
            writer = control.nodes[self.specs[0].name]
            copy_template(template, writer.data_dir, self._user)
            writer.start()
            self._create_app_role(writer)
            control.set_writer(writer.name)
            if init is not None:
                init(self.conninfo(writer.name, password=self._password))
            readers = [control.nodes[s.name] for s in self.specs[1:]]
            with ThreadPoolExecutor(max_workers=len(readers) or 1) as pool:
                list(pool.map(lambda node: (node.clone_from(writer), node.start()), readers))
            token = control.write_marker()
            for node in readers:
                if not procs.wait_until(lambda node=node: node.has_marker(token), timeout=30.0):  # type: ignore[misc]
                    raise DatabaseError(f"replica {node.name} does not stream from {writer.name} within 30 s: "
                                        f"{_log_tail(self.layout.log(node.name))} (see {self.layout.log(node.name)})")
                control.set_role(node.name, NodeRole.READER)
            control.publish()
        result = BootstrapResult(writer=writer.name, readers=tuple(n.name for n in readers),
                                 elapsed_s=round(time.monotonic() - started, 3))
        self._emit("db.bootstrapped", writer=result.writer, readers=list(result.readers),
                   elapsed_s=result.elapsed_s)
        return result

    def start_monitor(self) -> None:
        """Watch the writer and replicas (failover, rebuilds) on a background thread."""
        self._monitor.start()

    def stop(self) -> None:
        """Stop the monitor and every server (clean shutdown, crash after 5 s), then remove the runtime data."""
        self._monitor.stop()
        with self._control.lock:
            for node in self._control.nodes.values():
                node.stop(grace=5.0)
                self._control.set_role(node.name, NodeRole.DOWN)
            for path in (self.layout.data, self.layout.sockets, self.layout.passfile):
                procs.run(["rm", "-rf", str(path)], timeout=60)

    # --- reading -------------------------------------------------------------------------------------------

    def status(self) -> FleetStatus:
        return fleet_status(self._control)

    def topology(self) -> FleetTopology:
        return self._control.topology()

    @property
    def writer(self) -> str | None:
        snap = self._control.snapshot()
        return snap.writer if snap.writer and snap.roles[snap.writer] is NodeRole.WRITER else None

    @property
    def failovers(self) -> tuple[FailoverResult, ...]:
        """Every writer change so far, oldest first (including the monitor's automatic failovers)."""
        return tuple(self._control.failovers)

    def conninfo(self, name: str | None = None, *, password: str | None = None) -> str:
        """libpq conninfo of one instance (default: the writer) as the app user; no password unless given."""
        name = name or self.writer
        if name is None or name not in self._control.nodes:
            raise DatabaseError(f"no database instance {name!r}: use one of {', '.join(self._control.nodes)}")
        extra = {"password": password} if password is not None else {}
        return make_conninfo(host="127.0.0.1", port=self._control.nodes[name].spec.port,
                             dbname=topology.DB_NAME, user=topology.DB_USER, connect_timeout=2, **extra)

    def wait_replicated(self, timeout: float = 10.0) -> bool:
        """Wait until every streaming replica shows a marker row written now (False on timeout)."""
        control = self._control
        with control.lock:
            token = control.write_marker()
            readers = [n for n in control.live_readers() if n.spec.region not in control.cut_regions]
        return procs.wait_until(lambda: all(n.has_marker(token) for n in readers), timeout=timeout)

    # --- faults --------------------------------------------------------------------------------------------

    def crash_node(self, name: str) -> None:
        """Crash one instance for real. A crashed writer is failed over by the monitor; a crashed replica is
        dropped from its reader endpoint and rebuilt after ``rebuild_delay_s``."""
        control = self._control
        with control.lock:
            node = self._node(name)
            if not node.alive:
                raise FaultRefused(f"database instance {name} is already down: wait for its rebuild or pick another")
            node.crash()
            control.emit("db.crashed", instance=name, role=control.roles[name].value)
            if control.roles[name] is NodeRole.READER:
                control.set_role(name, NodeRole.DOWN)
                control.publish()

    def crash_writer(self) -> str:
        """Crash the current writer; returns its name."""
        with self._control.lock:
            name = self.writer
            if name is None or not self._control.nodes[name].alive:
                raise FaultRefused("the database fleet has no live writer to crash: wait for the failover to finish")
            self.crash_node(name)
            return name

    def set_az_down(self, az: str, down: bool) -> None:
        """Take an AZ down (its instances crash and nothing is rebuilt there) or bring it back (its missing
        replicas are rebuilt now)."""
        control = self._control
        with control.lock:
            if az not in self._known_azs():
                raise FaultRefused(f"unknown AZ {az!r}: use one of {', '.join(sorted(self._known_azs()))}")
            if down == (az in control.down_azs):
                raise FaultRefused(f"AZ {az} is already {'down' if down else 'up'}: nothing to change")
            with control.state_lock:
                (control.down_azs.add if down else control.down_azs.discard)(az)
            control.emit("db.az_down" if down else "db.az_up", az=az)
            for node in control.nodes.values():
                if node.spec.az != az:
                    continue
                if down and node.alive:
                    self.crash_node(node.name)
                elif not down and control.roles[node.name] is NodeRole.DOWN and node.name != control.writer \
                        and node.spec.region not in control.lost_regions and self.writer is not None:
                    control.reclone(node, reason=f"{az} is up again", event="db.reader_rebuilt")

    def switchover_global(self, to_region: str) -> FailoverResult:
        """Planned global switchover to ``to_region`` (RPO 0); the old writer becomes a replica."""
        control = self._control
        with control.lock:
            self._region(to_region)
            writer = self._live_writer("switch over")
            if writer.spec.region == to_region:
                raise FaultRefused(f"the writer {writer.name} is already in {to_region}: pick the other region")
            if to_region in control.cut_regions:
                raise FaultRefused(f"replication to {to_region} is cut: call restore_replication({to_region!r}) "
                                   "first, or use failover_global")
            targets = control.in_region(to_region, NodeRole.READER)
            if not targets:
                raise FaultRefused(f"{to_region} has no live replica to promote: restore the region first")
            return procedures.switchover_global(control, targets[0])

    def failover_global(self, to_region: str) -> FailoverResult:
        """Unplanned global failover: fence the writer's whole region, promote ``to_region`` (data loss allowed)."""
        control = self._control
        with control.lock:
            self._region(to_region)
            writer = control.writer
            if writer is not None and control.nodes[writer].spec.region == to_region \
                    and control.roles[writer] is NodeRole.WRITER:
                raise FaultRefused(f"the writer {writer} is already in {to_region}: pick the other region")
            if not control.in_region(to_region, NodeRole.READER):
                raise FaultRefused(f"{to_region} has no live replica to promote: nothing was changed")
            return procedures.failover_global(control, to_region, reason="requested")

    def restore_region(self, region: str) -> tuple[str, ...]:
        """Rebuild every down instance of ``region`` as a replica of the current writer; returns their names."""
        control = self._control
        with control.lock:
            self._region(region)
            self._live_writer("restore a region")
            missing = [n for n in control.in_region(region) if control.roles[n.name] is NodeRole.DOWN
                       and n.spec.az not in control.down_azs]
            if not missing and region not in control.lost_regions:
                raise FaultRefused(f"region {region} has no instance to restore: nothing was changed")
            with control.state_lock:
                control.lost_regions.discard(region)
            for node in missing:
                control.reclone(node, reason=f"region {region} restored", event="db.reader_rebuilt")
            control.emit("db.region_restored", region=region, instances=[n.name for n in missing])
            return tuple(n.name for n in missing)

    def restore_primary_region(self) -> tuple[str, ...]:
        """Rebuild the regions lost in global failovers as replicas (a switchover back restores the layout)."""
        lost = sorted(self._control.snapshot().lost_regions)
        if not lost:
            raise FaultRefused("no region was lost in a global failover: nothing to restore")
        return tuple(name for region in lost for name in self.restore_region(region))

    def cut_replication(self, region: str) -> None:
        """Stop the WAL stream into ``region``'s replicas: later writes are not received (a real, non-zero RPO)."""
        control = self._control
        with control.lock:
            self._region(region)
            if region in control.cut_regions:
                raise FaultRefused(f"replication to {region} is already cut: call restore_replication first")
            replicas = control.in_region(region, NodeRole.READER)
            if not replicas:
                raise FaultRefused(f"{region} has no live replica whose replication could be cut")
            with control.state_lock:
                control.cut_regions.add(region)
            for node in replicas:
                node.set_upstream("")
            stopped = procs.wait_until(
                lambda: all(n.wal_state().receiver_status is None for n in replicas), timeout=10.0)
            if not stopped:
                raise DatabaseError(f"the WAL stream into {region} did not stop within 10s: see the replica logs")
            control.emit("db.replication_cut", region=region, instances=[n.name for n in replicas],
                         received_lsn={n.name: n.wal_state().received_lsn for n in replicas})

    def restore_replication(self, region: str) -> dict[str, str]:
        """Re-attach ``region``'s replicas to the writer (re-cloned when they cannot follow any more)."""
        control = self._control
        with control.lock:
            self._region(region)
            if region not in control.cut_regions:
                raise FaultRefused(f"replication to {region} is not cut: nothing to restore")
            self._live_writer("restore replication")
            with control.state_lock:
                control.cut_regions.discard(region)
            outcomes = {n.name: control.follow(n) for n in control.in_region(region, NodeRole.READER)}
            control.emit("db.replication_restored", region=region, outcomes=outcomes)
            return outcomes

    # --- validation ----------------------------------------------------------------------------------------

    def _node(self, name: str) -> PgNode:
        node = self._control.nodes.get(name)
        if node is None:
            raise FaultRefused(f"unknown database instance {name!r}: use one of {', '.join(self._control.nodes)}")
        return node

    def _region(self, region: str) -> None:
        regions = sorted({s.region for s in self.specs})
        if region not in regions:
            raise FaultRefused(f"unknown region {region!r}: use one of {', '.join(regions)}")

    def _known_azs(self) -> set[str]:
        return {s.az for s in self.specs} | {az for r in topology.REGIONS for az in r.azs}

    def _live_writer(self, action: str) -> PgNode:
        name = self.writer
        if name is None or not self._control.nodes[name].alive:
            raise FaultRefused(f"cannot {action}: the fleet has no live writer - wait for the failover to finish")
        return self._control.nodes[name]

    def _create_app_role(self, writer: PgNode) -> None:
        """Create the app role with a SCRAM verifier computed here, so the password never reaches the server."""
        with writer.connect() as conn:
            verifier = conn.pgconn.encrypt_password(
                self._password.encode(), topology.DB_USER.encode(), b"scram-sha-256").decode()
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN REPLICATION PASSWORD {}").format(
                sql.Identifier(topology.DB_USER), sql.Literal(verifier)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(topology.DB_NAME), sql.Identifier(topology.DB_USER)))
            conn.execute("CREATE TABLE lab_marker (token text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")


def _validate_specs(nodes: list[NodeSpec], password: str) -> None:
    if not nodes:
        raise DatabaseError("a database fleet needs at least one NodeSpec: pass the writer first")
    for attr in ("name", "port"):
        values = [getattr(s, attr) for s in nodes]
        if len(set(values)) != len(values):
            raise DatabaseError(f"database NodeSpecs repeat a {attr}: give each instance its own {attr}")
    if not password:
        raise DatabaseError("the database password is empty: generate one for the lab")


def _log_tail(path: Path, lines: int = 2) -> str:
    """The last lines of a server log, on one line (the log may be gone once the fleet is cleaned up)."""
    try:
        tail = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return "no log"
    return " | ".join(line.strip() for line in tail) or "empty log"
