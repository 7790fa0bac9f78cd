"""Value types of the lab's Envoy networking: endpoints, health-check settings, ports, observations.

Health checks, AWS next to the lab (the lab scales the clock down so an experiment takes seconds)::

    check                        interval  timeout  healthy  unhealthy  path
    ALB target group (AWS)       30 s      5 s      5        2          (per target group)
    ALB target group (lab)       0.5 s     0.4 s    2        2          /ready
    Global Accelerator (AWS)     10 s      -        3        3          (ALB endpoints: the ALB's own health)
    Global Accelerator (lab)     1 s       0.5 s    2        2          /health through the ALB

Envoy marks a *new* host healthy after its first passing check (AWS wants ``healthy`` passes); after that,
the thresholds apply both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aftershock.core.errors import UsageError
from aftershock.lab.ports import free_port_on, free_ports
from aftershock.lab.topology import REGIONS


@dataclass(frozen=True)
class Endpoint:
    """One upstream: a shop pod behind an ALB, or a database instance behind a DB endpoint."""

    name: str
    host: str
    port: int
    az: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, kw_only=True)
class HealthCheckSettings:
    """Active HTTP health check of one load balancer.

    >>> HealthCheckSettings(interval_s=0.5, timeout_s=0.4, healthy_threshold=2, unhealthy_threshold=2, path="/ready")
    HealthCheckSettings(interval_s=0.5, timeout_s=0.4, healthy_threshold=2, unhealthy_threshold=2, path='/ready')
    """

    interval_s: float
    timeout_s: float
    healthy_threshold: int
    unhealthy_threshold: int
    path: str

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.timeout_s <= 0:
            raise UsageError(f"health check interval/timeout must be > 0, got {self!r}: use positive seconds")
        if self.healthy_threshold < 1 or self.unhealthy_threshold < 1:
            raise UsageError(f"health check thresholds must be >= 1, got {self!r}: use 1 or more")
        if not self.path.startswith("/"):
            raise UsageError(f"health check path {self.path!r} must start with '/'")

    @property
    def detection_s(self) -> float:
        """Worst case to mark a failing host unhealthy: ``unhealthy`` intervals plus one timeout."""
        return self.interval_s * self.unhealthy_threshold + self.timeout_s


ALB_AWS_HEALTH = HealthCheckSettings(
    interval_s=30.0, timeout_s=5.0, healthy_threshold=5, unhealthy_threshold=2, path="/ready"
)
ALB_LAB_HEALTH = HealthCheckSettings(
    interval_s=0.5, timeout_s=0.4, healthy_threshold=2, unhealthy_threshold=2, path="/ready"
)
# GA publishes interval 10 s and threshold 3; the timeout is ours.
GA_AWS_HEALTH = HealthCheckSettings(
    interval_s=10.0, timeout_s=5.0, healthy_threshold=3, unhealthy_threshold=3, path="/health"
)
GA_LAB_HEALTH = HealthCheckSettings(
    interval_s=1.0, timeout_s=0.5, healthy_threshold=2, unhealthy_threshold=2, path="/health"
)


@dataclass(frozen=True, kw_only=True)
class EnvoyLayout:
    """Every port of the one Envoy process (all on 127.0.0.1). ``regions`` is nearest-first from the clients.

    >>> layout = EnvoyLayout.allocate()  # free ports for the seed regions
    """

    admin: int
    front_door: int
    alb: Mapping[str, int]
    db_writer: int
    db_readers: Mapping[str, int]
    regions: tuple[str, ...] = field(default=tuple(r.name for r in REGIONS))
    alb_hosts: Mapping[str, str] = field(default_factory=dict)
    """Route 53 mode: each ALB's own loopback address (the ALBs then share one port); default 127.0.0.1."""

    def alb_host(self, region: str) -> str:
        return self.alb_hosts.get(region, "127.0.0.1")

    def __post_init__(self) -> None:
        for what, ports in (("alb", self.alb), ("db_readers", self.db_readers)):
            if set(ports) != set(self.regions):
                raise UsageError(
                    f"EnvoyLayout.{what} has regions {sorted(ports)}, expected {list(self.regions)}: "
                    "give one port per region"
                )
        local = [self.admin, self.front_door, self.db_writer, *self.db_readers.values()]
        every = [*(("127.0.0.1", p) for p in local), *((self.alb_host(r), p) for r, p in self.alb.items())]
        if len(set(every)) != len(every):
            raise UsageError(f"EnvoyLayout ports collide: {sorted(every)}: give distinct ports")

    @classmethod
    def allocate(cls, regions: tuple[str, ...] | None = None,
                 alb_hosts: Mapping[str, str] | None = None) -> EnvoyLayout:
        """A layout of currently free ports; with ``alb_hosts`` every ALB gets its own address and one shared port."""
        names = regions or tuple(r.name for r in REGIONS)
        ports = free_ports(3 + 2 * len(names))
        shared = free_port_on(tuple(alb_hosts[n] for n in names)) if alb_hosts else None
        return cls(
            admin=ports[0],
            front_door=ports[1],
            db_writer=ports[2],
            alb={name: shared or ports[3 + i] for i, name in enumerate(names)},
            db_readers={name: ports[3 + len(names) + i] for i, name in enumerate(names)},
            regions=names,
            alb_hosts=dict(alb_hosts or {}),
        )

    @property
    def primary(self) -> str:
        return self.regions[0]


@dataclass(frozen=True)
class HostHealth:
    """One upstream host as Envoy's admin API sees it."""

    cluster: str
    name: str  # the endpoint's hostname (pod or DB instance name), else its address
    address: str
    zone: str
    priority: int
    healthy: bool
    failed_active_hc: bool
    pending_first_hc: bool


@dataclass(frozen=True)
class Applied:
    """A dynamic-config change: when it was written and when Envoy reported it in force."""

    resource: str
    version: str
    written_at: float  # epoch seconds
    applied_at: float | None  # None when not waited for

    @property
    def seconds(self) -> float | None:
        return None if self.applied_at is None else self.applied_at - self.written_at


@dataclass(frozen=True)
class AccessRecord:
    """One request as an Envoy listener saw it (front door: what clients saw)."""

    start: float  # epoch seconds
    duration_ms: int | None
    method: str
    path: str
    status: int  # 0: no response was sent
    flags: str  # Envoy response flags, "-" when none (e.g. "UH" no healthy upstream, "UT" timeout)
    details: str | None  # Envoy's response code details, e.g. "via_upstream", "no_healthy_upstream"
    upstream_cluster: str | None
    upstream_host: str | None
    pod: str | None  # the X-Pod response header
    region: str | None  # the X-Region response header
    az: str | None  # the X-AZ response header
    request_id: str | None
