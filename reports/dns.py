"""The report's DNS-failover section (summary.json ``dns``): detection, the time to resolve to and to be served
by the secondary, the record's TTL, and each answer the harness saw. An unknown figure reads "unknown"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftershock.core.dns_measurement import DnsFailoverMeasurement


def _s(value: float | None, what: str = "") -> str:
    return "unknown" if value is None else f"{value:.3f} s{what}"


def dns_sections(figures: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(title, rows)]``: one section when the run measured a DNS failover, else none."""
    data = figures.get("dns")
    if not isinstance(data, Mapping):
        return []
    dns = DnsFailoverMeasurement.from_record({"ts": 0.0, **data})
    never = " (never within the probe's time)"
    rows = [("record", dns.record),
            ("detection (health check failed)", _s(dns.detection_s)),
            (f"resolved to {dns.to_region}", _s(dns.resolved_s) if dns.resolved_s is not None else "no" + never),
            (f"served by {dns.to_region}", _s(dns.served_s) if dns.served_s is not None else "no" + never),
            ("TTL", _s(dns.ttl_s))]
    rows += [(f"answer seen at +{a.at_s:.3f} s", f"{a.answer or 'no answer'} ({a.region or 'unknown region'})")
             for a in dns.answers]
    return [(f"DNS failover of {dns.record} (seconds from the fault)", rows)]


__all__ = ["dns_sections"]
