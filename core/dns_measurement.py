"""The DNS-failover measurement: how long clients were sent to the lost region, and what they were told.

From the fault (the RTO's origin), in seconds: ``detection_s`` until Route 53 saw the health check fail (the
target's own record; None: the target does not report it), ``resolved_s`` until the shop's name resolved to
``to_region`` (the harness resolves without a cache, so this is Route 53's answer), ``served_s`` until
``consecutive`` fresh requests in a row to the answered address were served by ``to_region``, and ``ttl_s`` the
record's TTL (how much longer an honest client cache may still send traffic to the old answer). ``answers``: each
answer the harness saw, when it first saw it (a change of answer is a new row).

Example::

    DnsFailoverMeasurement(ts=t, record="shop.example.com", to_region="us-west-2", resolved_s=1.6, served_s=1.7,
                           ttl_s=60, answers=(DnsAnswerSeen(at_s=0.0, answer="10.0.1.5", region="us-east-1"), ...))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from aftershock.core.kinds import MeasurementKind
from aftershock.core.measurement_base import Measurement


@dataclass(frozen=True, kw_only=True)
class DnsAnswerSeen:
    """An answer of the shop's name the harness saw first ``at_s`` after the fault (None: did not resolve)."""

    at_s: float
    answer: str | None
    region: str | None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DnsAnswerSeen:
        answer, region = data.get("answer"), data.get("region")
        return cls(at_s=float(data["at_s"]), answer=None if answer is None else str(answer),
                   region=None if region is None else str(region))


@dataclass(frozen=True, kw_only=True)
class DnsFailoverMeasurement(Measurement):
    """The DNS-failover probe: detection, time to resolve to and to be served by ``to_region``, the TTL, the
    answers seen (seconds from ``fault_at``; None: did not happen, or unknown)."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.DNS_FAILOVER
    record: str = ""
    to_region: str = ""
    fault_at: float = 0.0
    detection_s: float | None = None
    resolved_s: float | None = None
    served_s: float | None = None
    ttl_s: float | None = None
    answers: tuple[DnsAnswerSeen, ...] = ()
    requests: int = 0

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        answers = values.get("answers") or ()
        return {**values, "answers": tuple(a if isinstance(a, DnsAnswerSeen) else DnsAnswerSeen.from_dict(a)
                                           for a in answers)}


def answer_changes(seen: list[DnsAnswerSeen]) -> tuple[DnsAnswerSeen, ...]:
    """``seen`` (every lookup, in order) reduced to the first sighting of each new answer."""
    changes: list[DnsAnswerSeen] = []
    for answer in seen:
        if not changes or (changes[-1].answer, changes[-1].region) != (answer.answer, answer.region):
            changes.append(answer)
    return tuple(changes)


__all__ = ["DnsAnswerSeen", "DnsFailoverMeasurement", "answer_changes"]
