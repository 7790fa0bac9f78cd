"""One sample of a DNS front door: what Route 53 says (its checkers' health share per region, ``test_dns_answer``)
next to what the harness itself resolved at the same moment (through the target's resolver, no cache).

On AWS the two differ while Route 53's answer propagates; a part that could not be read is empty with the reason
in ``error`` (never guessed).

Example::

    DnsSample(resolved=("10.0.1.5",), resolved_region="us-east-1", route53_answer=("west-alb.elb...",),
              route53_region="us-west-2", healthy_share=(("us-east-1", 0.25), ("us-west-2", 1.0)))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, kw_only=True)
class DnsSample:
    """The harness's own resolution and Route 53's view, sampled together."""

    resolved: tuple[str, ...] = ()
    resolved_region: str | None = None
    route53_answer: tuple[str, ...] = ()
    route53_region: str | None = None
    healthy_share: tuple[tuple[str, float | None], ...] = ()
    """Per region, the share of Route 53's checkers that see its health check pass (None: no observation)."""
    check_healthy: tuple[tuple[str, bool | None], ...] = ()
    """AWS: per region, Route 53's status of its health check (more than 18 % of checkers healthy, ``Inverted`` and
    ``Disabled`` applied: :mod:`aftershock.faults.aws.dns_observe`); None: unknown in this sample."""
    routing_controls: tuple[tuple[str, str | None], ...] = ()
    """AWS: per region, its ARC routing control's state (``On`` / ``Off``); None: unknown in this sample."""
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {"resolved": list(self.resolved), "resolved_region": self.resolved_region,
                "route53_answer": list(self.route53_answer), "route53_region": self.route53_region,
                "healthy_share": dict(self.healthy_share), "error": self.error,
                **({"check_healthy": dict(self.check_healthy)} if self.check_healthy else {}),
                **({"routing_controls": dict(self.routing_controls)} if self.routing_controls else {})}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DnsSample:
        shares = record.get("healthy_share") or {}
        return cls(resolved=tuple(str(a) for a in record.get("resolved") or ()),
                   resolved_region=_opt(record.get("resolved_region")),
                   route53_answer=tuple(str(a) for a in record.get("route53_answer") or ()),
                   route53_region=_opt(record.get("route53_region")),
                   healthy_share=tuple(sorted((str(k), None if v is None else float(v)) for k, v in shares.items())),
                   check_healthy=tuple(sorted((str(k), v if isinstance(v, bool) else None)
                                              for k, v in (record.get("check_healthy") or {}).items())),
                   routing_controls=tuple(sorted((str(k), None if v is None else str(v))
                                                 for k, v in (record.get("routing_controls") or {}).items())),
                   error=_opt(record.get("error")))


__all__ = ["DnsSample"]
