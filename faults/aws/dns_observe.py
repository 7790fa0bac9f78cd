"""Route 53 health check status and ARC routing control states, read once per sample (the sampler's DNS view).

Route 53's verdict on a health check, by its documented rules:

* an endpoint check (HTTP, HTTPS, ..._STR_MATCH, TCP) is healthy when **more than 18 %** of the checkers report
  the endpoint healthy, unhealthy at 18 % or fewer (Route 53 Developer Guide, "How Amazon Route 53 determines
  whether a health check is healthy", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/
  dns-failover-determining-health-of-endpoints.html; AWS says the value may change). A checker reports healthy
  when its ``StatusReport.Status`` (``get_health_check_status``) starts with ``Success``;
* ``Disabled``: "Route 53 considers the status of the health check to always be healthy" (API reference,
  ``HealthCheckConfig.Disabled``);
* ``Inverted``: "Route 53 considers the health check to be unhealthy when the status is healthy and vice versa"
  (Developer Guide, "Inverting health checks"): applied on top of the checkers' verdict, whose reports say what
  each checker saw at the endpoint (the guide's wording; AWS does not document the reports of an inverted check);
* CALCULATED, CLOUDWATCH_METRIC and RECOVERY_CONTROL checks have no checker reports to count
  (``get_health_check_status`` does not serve calculated checks): their status is unknown here (a routing control's
  state is read directly instead).

Calls per sample, bounded: ``get_health_check`` (its Type, Disabled, Inverted) and ``get_health_check_status``
(skipped for a disabled or checker-less check) per health check in ``front_door.dns.health_checks``, and one
``get_routing_control_state`` per routing control (at most one try per cluster endpoint, random start, as
:mod:`.arc` does). A call that fails leaves that check or control unknown for the sample (None), its reason in
the sample's ``error``; nothing is guessed.

Example::

    status = read_check(recorder, route53_client, target.front_door.dns.health_checks[0])
    status.share, status.healthy     # 0.25, True  (2 of 8 checkers report Success: 25 % > 18 %)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aftershock.core.route53 import DnsHealthCheck, RoutingControl
from aftershock.faults.aws.arc import RoutingControls
from aftershock.faults.aws.calls import CallRecorder

HEALTHY_SHARE = 0.18
"""Route 53 considers an endpoint healthy when MORE than this share of its checkers report it healthy."""
CHECKER_TYPES = frozenset({"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"})
"""Health check types whose status comes from Route 53's checkers (the others have no reports to count)."""


@dataclass(frozen=True)
class CheckStatus:
    """One health check in one sample: the checkers' healthy share and Route 53's verdict (None: unknown)."""

    region: str
    check_id: str
    share: float | None = None
    healthy: bool | None = None
    error: str | None = None


def checker_share(observations: Iterable[Mapping[str, Any]]) -> float | None:
    """The share of checkers whose latest report is a success (None: no checker reported)."""
    reports = [str((o.get("StatusReport") or {}).get("Status", "")) for o in observations]
    if not reports:
        return None
    return round(sum(1 for r in reports if r.startswith("Success")) / len(reports), 3)


def route53_healthy(share: float | None, config: Mapping[str, Any]) -> bool | None:
    """Route 53's status of a check with ``config`` whose checkers' healthy share is ``share`` (None: unknown)."""
    inverted = bool(config.get("Inverted", False))
    if config.get("Disabled"):
        return not inverted
    if str(config.get("Type", "")) not in CHECKER_TYPES or share is None:
        return None
    return (share > HEALTHY_SHARE) != inverted


def _failed(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def read_check(rec: CallRecorder, client: Any, check: DnsHealthCheck) -> CheckStatus:
    """``check``'s configuration and checker reports, and Route 53's verdict; a failed call leaves it unknown."""
    try:
        config = dict(rec.read(client, "get_health_check", HealthCheckId=check.id)["HealthCheck"]
                      ["HealthCheckConfig"])
    except Exception as exc:  # a sample records what failed; the run goes on
        return CheckStatus(check.region, check.id, error=f"health check {check.id}: {_failed(exc)}")
    kind = str(config.get("Type", ""))
    if config.get("Disabled") or kind not in CHECKER_TYPES:
        why = None if config.get("Disabled") else f"health check {check.id} is {kind}: no checker reports to count"
        return CheckStatus(check.region, check.id, None, route53_healthy(None, config), why)
    try:
        found = rec.read(client, "get_health_check_status", HealthCheckId=check.id)
    except Exception as exc:
        return CheckStatus(check.region, check.id, error=f"health check {check.id} status: {_failed(exc)}")
    share = checker_share(found.get("HealthCheckObservations") or [])
    return CheckStatus(check.region, check.id, share, route53_healthy(share, config),
                       None if share is not None else f"health check {check.id}: no checker reported")


def read_controls(arc: RoutingControls, controls: Iterable[RoutingControl]) -> tuple[dict[str, str | None], list[str]]:
    """Each routing control's state by region (None: unknown this sample) and what failed."""
    states: dict[str, str | None] = {}
    errors: list[str] = []
    for control in controls:
        try:
            states[control.region] = arc.state(control.arn, observing=True)
        except Exception as exc:  # every endpoint failed, or ARC refused the read: unknown, said why
            states[control.region] = None
            errors.append(f"routing control {control.region}: {_failed(exc)}")
    return states, errors


__all__ = ["CHECKER_TYPES", "HEALTHY_SHARE", "CheckStatus", "checker_share", "read_check", "read_controls",
           "route53_healthy"]
