"""Route 53 record sets and how Route 53 picks the answer among them (simple, weighted, failover).

A name has either one simple record set, a group of weighted ones or a failover pair (PRIMARY/SECONDARY), each
optionally tied to a health check. Route 53's rules, as documented, and kept here:

* failover: the primary while its health check is healthy (a record without a check counts as healthy), else
  the secondary when healthy; when both are unhealthy Route 53 answers with the primary;
* weighted: one record set, chosen with probability weight / total among the healthy ones with weight > 0; when
  none is healthy, one of the healthy ones with weight 0, else any with weight > 0 as if all were healthy;
* a CNAME answers any type; the lab's server then chases it (the clients' resolver would);
* a record may carry an ARC routing control's RECOVERY_CONTROL check (``control_check``) next to its own: it is
  healthy only while both are (Route 53: the control's check as HealthCheckId, Evaluate Target Health on).

Example::

    primary = RecordSet(name="shop.lab.test.", type="A", ttl_s=2, values=("127.0.1.1",),
                        routing=Routing.FAILOVER, set_id="east", failover="PRIMARY", health_check="hc-east")
    chosen = select([primary, secondary], healthy=lambda check_id: statuses[check_id], rng=random.Random())
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from aftershock.core.errors import UsageError

RECORD_TYPES = ("A", "CNAME", "TXT")


class Routing(enum.StrEnum):
    SIMPLE = "simple"
    WEIGHTED = "weighted"
    FAILOVER = "failover"


def fqdn(name: str) -> str:
    """``name`` in lower case with the trailing dot (``Shop.Lab.Test`` -> ``shop.lab.test.``)."""
    return name.lower().rstrip(".") + "."


@dataclass(frozen=True, kw_only=True)
class RecordSet:
    """One Route 53 record set (a failover or weighted one carries its ``set_id``)."""

    name: str
    type: str
    ttl_s: float
    values: tuple[str, ...]
    routing: Routing = Routing.SIMPLE
    set_id: str | None = None
    weight: int | None = None
    failover: Literal["PRIMARY", "SECONDARY"] | None = None
    health_check: str | None = None
    control_check: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", fqdn(self.name))
        if self.type not in RECORD_TYPES:
            raise UsageError(f"record {self.name} has type {self.type!r}: use one of {', '.join(RECORD_TYPES)}")
        if not self.values or self.ttl_s < 0:
            raise UsageError(f"record {self.name} needs at least one value and a TTL >= 0")
        if self.routing is not Routing.SIMPLE and not self.set_id:
            raise UsageError(f"{self.routing} record {self.name} needs a set_id (Route 53's SetIdentifier)")
        if self.routing is Routing.FAILOVER and self.failover not in ("PRIMARY", "SECONDARY"):
            raise UsageError(f"failover record {self.name} needs failover: PRIMARY or SECONDARY")
        if self.routing is Routing.WEIGHTED and (self.weight is None or not 0 <= self.weight <= 255):
            raise UsageError(f"weighted record {self.name} needs a weight from 0 to 255")

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What identifies a record set in its zone (Route 53: name, type and set identifier)."""
        return self.name, self.type, self.set_id


Healthy = Callable[[str], bool]


def _ok(record: RecordSet, healthy: Healthy) -> bool:
    return all(check is None or healthy(check) for check in (record.health_check, record.control_check))


def select(records: Sequence[RecordSet], healthy: Healthy, rng: random.Random) -> RecordSet | None:
    """The record set Route 53 answers with among ``records`` (one name and type); None when there is none."""
    if not records:
        return None
    routing = records[0].routing
    if routing is Routing.SIMPLE:
        return records[0]
    if routing is Routing.FAILOVER:
        primary = next((r for r in records if r.failover == "PRIMARY"), None)
        secondary = next((r for r in records if r.failover == "SECONDARY"), None)
        if primary is not None and _ok(primary, healthy):
            return primary
        if secondary is not None and _ok(secondary, healthy):
            return secondary
        return primary or secondary
    weighted = [r for r in records if (r.weight or 0) > 0]
    candidates = [r for r in weighted if _ok(r, healthy)]
    if candidates:
        return rng.choices(candidates, weights=[r.weight or 0 for r in candidates])[0]
    zero = [r for r in records if not r.weight and _ok(r, healthy)]  # weight 0: only when the others are down
    return rng.choice(zero or weighted or list(records))


__all__ = ["RECORD_TYPES", "RecordSet", "Routing", "fqdn", "select"]
