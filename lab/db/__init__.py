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
"""

from lab.db.fleet import DatabaseFleet
from lab.db.models import (
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
