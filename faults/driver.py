"""The driver interface: what every target (lab, AWS) must do for the experiments.

Experiments call target-agnostic actions (``faults.actions``); each resolves the target from the experiment
configuration and calls the driver chosen once by the target's ``kind`` (see :func:`driver_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aftershock.errors import TargetError
from aftershock.target import Target
from faults.outcome import FaultOutcome


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


class Driver(Protocol):
    """Faults and observers of one target. Faults validate everything before changing anything."""

    target: Target

    def kill_pods(self, region: str, *, az: str | None, count: int | None, percent: float | None) -> FaultOutcome:
        ...

    def az_outage(self, az: str) -> FaultOutcome: ...

    def az_restore(self, az: str) -> FaultOutcome: ...

    def crash_writer(self) -> FaultOutcome: ...

    def failover_global_database(self, to_region: str) -> FaultOutcome: ...

    def switchover_global_database(self, to_region: str) -> FaultOutcome: ...

    def restore_database_region(self, region: str) -> FaultOutcome: ...

    def set_traffic_dial(self, region: str, dial: int) -> FaultOutcome: ...

    def cut_replication(self, region: str) -> FaultOutcome: ...

    def restore_replication(self, region: str) -> FaultOutcome: ...

    def observe(self) -> Observation: ...

    def wait_healthy(self, timeout_s: float) -> Observation: ...

    def writer_conninfo(self) -> str:
        """A libpq conninfo for the writer endpoint, password included (keep it in memory only)."""
        ...


DriverFactory = Callable[[Target], Driver]


def _lab(target: Target) -> Driver:
    from faults.lab_driver import LabDriver

    return LabDriver(target)


def _aws(target: Target) -> Driver:
    try:
        from faults.aws_driver import AwsDriver  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise TargetError(f"target {target.name!r} is an AWS target, but the AWS driver is not available in "
                          "this version: use --target lab") from exc
    driver: Driver = AwsDriver(target)
    return driver


DRIVERS: dict[str, DriverFactory] = {"lab": _lab, "aws": _aws}


def driver_for(target: Target) -> Driver:
    """The driver for ``target.kind``, chosen once."""
    return DRIVERS[target.kind](target)
