"""`aftershock lab status` with the route53-failover front door: what the shop's name resolves to, the
failover record's PRIMARY, the TTL, each health check's state (ARC routing controls' too), the ALBs taken out
and the database CNAMEs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table


def dns_table(dns: Mapping[str, Any]) -> Table:
    """The lab's Route 53 (``status["dns"]``) as one table: a row per health check under a title with the answer."""
    down = ", ".join(dns.get("albs_down") or ()) or "none"
    table = Table(title=f"Route 53 (resolver {dns['resolver']}): {dns['name']} -> {dns['answer']} "
                        f"({dns['region']}), PRIMARY {dns['primary']}, TTL {dns['ttl_s']:g} s, ALBs out: {down}")
    for col in ("health check", "region", "endpoint", "status", "inverted", "interval x threshold"):
        table.add_column(col)
    for check in dns["health_checks"]:
        table.add_row(check["id"], check["region"], check["endpoint"], check["status"], str(check["inverted"]),
                      f"{check['interval_s']:g} s x {check['failure_threshold']}")
    for control in dns.get("routing_controls") or ():  # ARC: RECOVERY_CONTROL checks, no endpoint probed
        table.add_row(control["id"], control["region"], f"routing control {control['state']}", control["status"],
                      "", "at once")
    for name, values in sorted((dns.get("private_zone") or {}).items()):
        table.add_row(name.rstrip("."), "", " ".join(v.rstrip(".") for v in values), "CNAME", "", "")
    return table


__all__ = ["dns_table"]
