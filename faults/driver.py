"""The driver interface: what every target (lab, AWS) must do for the experiments.

Experiments call target-agnostic actions (``aftershock.faults.actions``); each resolves the target from the experiment
configuration and calls the driver chosen once by the target's ``kind`` (:mod:`aftershock.faults.registry`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aftershock.core.dns_sample import DnsSample
from aftershock.core.target import Target
from aftershock.faults.outcome import FaultOutcome


@dataclass(frozen=True)
class RegionReplicas:
    region: str
    desired: int
    ready: int


@dataclass(frozen=True)
class Observation:
    """One look at the target: where the writer is, replicas, dials, replication lag (for samples and probes)."""

    ts: float
    writer: str | None
    writer_region: str | None
    replicas: tuple[RegionReplicas, ...]
    dials: dict[str, int]
    azs_down: tuple[str, ...]
    replication_lag_bytes: dict[str, int | None] = field(default_factory=dict)
    replication_lag_s: dict[str, float | None] = field(default_factory=dict)
    healthy: bool = True
    dns: DnsSample | None = None
    """A DNS front door's state, when the driver samples it (AWS: Route 53's view + the harness's resolution)."""
    alb_target_states: dict[str, dict[str, int]] = field(default_factory=dict)
    """AWS: load balancer -> its targets per health state (``healthy``, ``unhealthy``, ``draining``, ``initial``,
    ...: ``describe_target_health``) -> count; empty where not observed (the lab)."""
    endpoints_healthy: dict[str, bool] = field(default_factory=dict)
    """AWS: region -> every Global Accelerator endpoint there is HEALTHY; empty where not observed (the lab)."""


class Driver(Protocol):
    """Faults and observers of one target. Faults validate everything before changing anything.

    ``journals_in_flight``: the driver keeps an in-flight journal entry from a fault's first step (AWS), so the
    caller need not hold Ctrl-C and SIGTERM while a fault runs; ``False`` (lab): a fault is one short call, and
    signals are held until it is journaled.
    """

    target: Target
    journals_in_flight: bool

    def kill_pods(self, region: str, *, az: str | None, count: int | None, percent: float | None) -> FaultOutcome:
        ...

    def az_outage(self, az: str) -> FaultOutcome: ...

    def az_restore(self, az: str) -> FaultOutcome: ...

    def crash_writer(self) -> FaultOutcome: ...

    def failover_global_database(self, to_region: str) -> FaultOutcome: ...

    def switchover_global_database(self, to_region: str) -> FaultOutcome: ...

    def restore_database_region(self, region: str) -> FaultOutcome: ...

    def set_traffic_dial(self, region: str, dial: int) -> FaultOutcome: ...

    def start_zonal_shift(self, az: str, *, resources: list[str] | None = None,
                          expires_in: str = "1h") -> FaultOutcome:
        """Shift traffic away from ``az`` (ARC zonal shift on AWS), a remediation step; refused where the target
        has no such mechanism."""
        ...

    def cut_replication(self, region: str) -> FaultOutcome: ...

    def restore_replication(self, region: str) -> FaultOutcome: ...

    def pause_data_replication(self, store: str, name: str) -> FaultOutcome:
        """Pause replication of the target's DynamoDB global table (``store`` ``dynamodb``) or S3 bucket (``s3``);
        ``name`` empty: the target's table / the primary's bucket. Reverted exactly by ``revert_faults``."""
        ...

    def observe(self) -> Observation: ...

    def wait_healthy(self, timeout_s: float) -> Observation: ...

    def writer_conninfo(self) -> str:
        """A libpq conninfo for the writer endpoint, password included (keep it in memory only)."""
        ...

    def close(self) -> None:
        """Release the driver's connections (HTTP and API clients). Whoever creates a driver closes it, e.g.
        ``with contextlib.closing(driver_for(target)) as driver: ...``."""
        ...

