"""How the lab's Route 53 is shaped: zone names, TTL, health-check clock, the ALBs' addresses, keep-alive.

    setting                          AWS                              lab default
    health check interval            30 s (standard) / 10 s (fast)    0.5 s
    failure threshold                3                                3
    TTL of the failover record       60 s (alias to an ALB)           2 s
    ALB client keep-alive duration   3600 s                           3 s

In ``route53-failover`` mode each region's ALB listens on its own loopback address (``alb_hosts``) and all of them
on one shared port, so the address DNS answers tells the region and a client connects exactly where DNS sent it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aftershock.core.errors import UsageError
from aftershock.lab.dns.health import LAB_TTL_S, R53_LAB, DnsHealthSettings

FrontDoorKind = Literal["global-accelerator", "route53-failover"]
FRONT_DOORS: tuple[FrontDoorKind, ...] = ("global-accelerator", "route53-failover")


@dataclass(frozen=True, kw_only=True)
class DnsLabSettings:
    zone: str = "aftershock-lab.test"
    private_zone: str = "db.aftershock-lab.internal"
    host: str = "shop"
    ttl_s: float = LAB_TTL_S
    health: DnsHealthSettings = R53_LAB
    alb_keepalive_s: float = 3.0
    alb_hosts: dict[str, str] = field(default_factory=lambda: {"us-east-1": "127.0.1.1", "us-west-2": "127.0.2.1"})

    def __post_init__(self) -> None:
        bad = [h for h in self.alb_hosts.values() if not h.startswith("127.")]
        if bad or len(set(self.alb_hosts.values())) != len(self.alb_hosts):
            raise UsageError(f"DNS lab ALB addresses {self.alb_hosts}: use distinct loopback addresses (127.x.y.z)")
        if self.ttl_s < 0 or self.alb_keepalive_s <= 0:
            raise UsageError("DNS lab TTL must be >= 0 and the ALB keep-alive > 0 seconds")

    @property
    def record(self) -> str:
        """The shop's name clients resolve: ``shop.aftershock-lab.test``."""
        return f"{self.host}.{self.zone}"


def front_door_kind(value: str) -> FrontDoorKind:
    """``value`` as a front-door kind; :class:`UsageError` naming the choices otherwise."""
    for kind in FRONT_DOORS:
        if value == kind:
            return kind
    raise UsageError(f"front door {value!r} is unknown: use one of {', '.join(FRONT_DOORS)}")


__all__ = ["FRONT_DOORS", "DnsLabSettings", "FrontDoorKind", "front_door_kind"]
