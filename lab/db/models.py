"""What the fleet is made of and what it reports: frozen, typed values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class NodeRole(StrEnum):
    """The role the control plane gives an instance."""

    WRITER = "writer"
    READER = "reader"
    DOWN = "down"
    REBUILDING = "rebuilding"


@dataclass(frozen=True)
class NodeSpec:
    """One database instance: ``NodeSpec("shop-east-a", "us-east-1", "us-east-1a", 54321)``.

    The first spec is the initial writer; on ties the control plane prefers earlier specs.
    """

    name: str
    region: str
    az: str
    port: int


@dataclass(frozen=True)
class Endpoint:
    """Where clients reach one instance (always 127.0.0.1)."""

    name: str
    region: str
    az: str
    port: int
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class FleetTopology:
    """Where the writer endpoint and each region's reader endpoint should point.

    ``readers`` has a key for every region of the fleet; a region without a live reader maps to ``()``.
    """

    writer: Endpoint | None
    readers: Mapping[str, tuple[Endpoint, ...]] = field(default_factory=dict)

    def readers_in(self, region: str) -> tuple[Endpoint, ...]:
        return tuple(self.readers.get(region, ()))


@dataclass(frozen=True)
class NodeStatus:
    """One instance as the control plane sees it right now.

    LSNs are PostgreSQL's ``X/Y`` text. ``lag_bytes`` is the writer's current LSN minus this reader's replayed
    LSN; ``lag_seconds`` is 0 when nothing is left to replay, else the age of the last replayed transaction.
    """

    name: str
    region: str
    az: str
    port: int
    role: NodeRole
    alive: bool
    timeline: int | None = None
    current_lsn: str | None = None
    received_lsn: str | None = None
    replayed_lsn: str | None = None
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    upstream: str | None = None
    streaming: bool = False
    cut: bool = False


@dataclass(frozen=True)
class FleetStatus:
    """The whole fleet: every node, the writer, and the faults in force."""

    writer: str | None
    nodes: tuple[NodeStatus, ...]
    cut_regions: frozenset[str]
    down_azs: frozenset[str]
    lost_regions: frozenset[str]
    taken_at: float

    def node(self, name: str) -> NodeStatus:
        for status in self.nodes:
            if status.name == name:
                return status
        raise KeyError(name)


@dataclass(frozen=True)
class BootstrapResult:
    """How long the fleet took to come up, and the writer it came up with."""

    writer: str
    readers: tuple[str, ...]
    elapsed_s: float


@dataclass(frozen=True)
class FailoverResult:
    """One change of writer: in-region failover, global switchover or global failover (epoch times)."""

    kind: str  # "in-region", "switchover", "global-failover"
    old_writer: str | None
    new_writer: str
    started_at: float
    promoted_at: float
    endpoint_moved_at: float
    finished_at: float
    reattached: tuple[str, ...] = ()
    recloned: tuple[str, ...] = ()

    @property
    def endpoint_move_s(self) -> float:
        """Seconds from the start (detection or request) to the writer endpoint moving."""
        return self.endpoint_moved_at - self.started_at
