"""An Aurora-Global-Database-like fleet made of real PostgreSQL 16 servers on 127.0.0.1.

One writer and streaming readers spread over regions and AZs; a control plane (:class:`DatabaseFleet`)
that bootstraps them from a cached template, watches the writer, fails over inside a region on its own,
and applies the database faults (crash, AZ down, global switchover/failover, cut replication).

Usage (the supervisor)::

    fleet = DatabaseFleet(root, specs, password, emit=log, on_topology_change=envoy.point_at)
    fleet.bootstrap(init=load_schema)   # init(conninfo) gets a conninfo with the password, in memory only
    fleet.start_monitor()
    ...
    fleet.stop()

Events (``emit(kind, **fields)``; the event log adds the epoch ``ts``):

``db.bootstrapped`` writer, readers, elapsed_s · ``db.crashed`` instance, role · ``db.writer_down`` instance,
region, az, reason · ``db.fenced`` instance, was_alive, reason · ``db.promoted`` instance, previous, procedure,
timeline, lsn · ``db.endpoint_moved`` writer, port, previous, elapsed_s · ``db.reattached`` instance, writer ·
``db.recloned`` / ``db.reader_rebuilt`` instance, writer, reason, elapsed_s · ``db.reader_down`` instance, region,
az · ``db.writer_restarted`` / ``db.no_writer`` instance, reason · ``db.switchover_started`` instance, target ·
``db.global_failover`` writer, lost_region, reason · ``db.region_restored`` region, instances ·
``db.replication_cut`` region, instances, received_lsn · ``db.replication_restored`` region, outcomes ·
``db.az_down`` / ``db.az_up`` az · ``db.monitor_error`` error.
"""

from aftershock.lab.db.fleet import DatabaseFleet
from aftershock.lab.db.models import (
    BootstrapResult,
    Endpoint,
    FailoverResult,
    FleetStatus,
    FleetTopology,
    NodeRole,
    NodeSpec,
    NodeStatus,
)

__all__ = [
    "BootstrapResult",
    "DatabaseFleet",
    "Endpoint",
    "FailoverResult",
    "FleetStatus",
    "FleetTopology",
    "NodeRole",
    "NodeSpec",
    "NodeStatus",
]
