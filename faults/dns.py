"""Chaos Toolkit actions of a DNS front door (``front_door.kind: route53-failover``), lab and AWS alike.

* :func:`fail_dns_health_check` - the primary's Route 53 health check reports unhealthy (lab: its checker is
  inverted; AWS: ``update_health_check(Inverted=True)``); Route 53 answers with the secondary after the failure
  threshold x interval, clients follow once their cache lets them. Reverted to the check's original setting.
* :func:`dns_failover` - a manual failover: the failover record's PRIMARY becomes the secondary's record.
  Reverted to the original records.
* :func:`set_routing_control` - the region's Route 53 ARC routing control is turned Off (or On): its
  RECOVERY_CONTROL health check on the failover record follows at once (no threshold), DNS answers with the other
  region. Lab: the lab's control; AWS: ``update_routing_control_state`` through any cluster endpoint that answers.
  Reverted to the state read before.

* :func:`lose_region_front_door` - the region's ALB answers 503 to every request (lab: it loses every target;
  AWS: a priority-1 listener rule with a fixed 503, :mod:`aftershock.faults.aws.alb_outage`): clients see an
  outage, Route 53's check of that ALB fails by itself, DNS moves the clients. Reverted: the lab's ALB gets its
  ready pods back, the AWS rule is deleted.

All are journaled before the run moves on, like every fault (:mod:`aftershock.faults.actions`).
:func:`require_dns_front_door` refuses, before anything starts, an experiment of these against a target without
a DNS front door.

Usage in an experiment::

    - type: action
      name: fail-the-primary-health-check
      provider: {type: python, module: aftershock.faults.dns, func: fail_dns_health_check}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from aftershock.core.errors import FaultRefused, UsageError
from aftershock.core.route53 import Route53
from aftershock.core.target import Target
from aftershock.faults.actions import Apply, Configuration, Secrets, _inject
from aftershock.faults.context import ActivityContext
from aftershock.faults.outcome import FaultOutcome

__all__ = ["dns_failover", "fail_dns_health_check", "lose_region_front_door", "require_dns_front_door",
           "set_routing_control"]

DNS_MODULES = ("aftershock.faults.dns", "aftershock.probes.dns_failover")
"""Activities of these modules need a DNS front door (``front_door.kind: route53-failover``)."""
FRONT_DOOR_FIX = "start the lab with `aftershock lab up --front-door route53-failover`"


@runtime_checkable
class DnsDriver(Protocol):
    """A driver that can change the target's Route 53 health checks and failover record."""

    def set_dns_health_check(self, region: str, inverted: bool = True) -> FaultOutcome: ...

    def set_dns_primary(self, primary: str) -> FaultOutcome: ...


def _dns(ctx: ActivityContext, action: str) -> tuple[Route53, DnsDriver]:
    dns = ctx.target.front_door.dns
    if ctx.target.front_door.kind != "route53-failover" or dns is None:
        raise FaultRefused(f"{action}: target {ctx.target.name!r} has no DNS front door (front_door.kind is "
                           f"{ctx.target.front_door.kind}): {FRONT_DOOR_FIX} or describe the Route 53 records in "
                           "front_door.dns")
    if not isinstance(ctx.driver, DnsDriver):
        raise FaultRefused(f"{action}: the {ctx.target.kind} driver cannot change DNS")
    return dns, ctx.driver


def fail_dns_health_check(region: str = "", configuration: Configuration = None,
                          secrets: Secrets = None) -> dict[str, Any]:
    """Fail the Route 53 health check of ``region`` (default: the primary): Route 53 answers with the other
    region after failure threshold x interval. Reverted to the check's original setting."""

    def call(ctx: ActivityContext) -> Apply:
        dns, driver = _dns(ctx, "fail_dns_health_check")
        name = ctx.target.region(region).name if region else ctx.target.primary.name
        if dns.check_of(name) is None:
            raise FaultRefused(f"fail_dns_health_check: target {ctx.target.name!r} lists no DNS health check for "
                               f"{name}: add it to front_door.dns.health_checks")
        return lambda: driver.set_dns_health_check(name, True)

    return _inject("fail_dns_health_check", configuration, call, region=region)


def dns_failover(to_region: str = "", configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Manual DNS failover: ``to_region``'s failover record (default: the secondary's) becomes the PRIMARY.
    Reverted to the original records."""

    def call(ctx: ActivityContext) -> Apply:
        _, driver = _dns(ctx, "dns_failover")
        if to_region:
            name = ctx.target.region(to_region).name
        elif ctx.target.secondary is not None:
            name = ctx.target.secondary.name
        else:
            raise FaultRefused(f"dns_failover: target {ctx.target.name!r} has no secondary region")
        return lambda: driver.set_dns_primary(name)

    return _inject("dns_failover", configuration, call, to_region=to_region)


@runtime_checkable
class RoutingControlDriver(Protocol):
    """A driver that can turn the target's ARC routing controls On or Off."""

    def set_routing_control(self, region: str, state: str = "Off") -> FaultOutcome: ...


def set_routing_control(region: str = "", state: str = "Off", configuration: Configuration = None,
                        secrets: Secrets = None) -> dict[str, Any]:
    """Turn the Route 53 ARC routing control of ``region`` (default: the primary) ``state`` (``Off`` or ``On``):
    Off takes the region's failover record out of DNS at once. Reverted to the state it had."""

    def call(ctx: ActivityContext) -> Apply:
        dns, _ = _dns(ctx, "set_routing_control")
        driver = ctx.driver
        if not isinstance(driver, RoutingControlDriver):
            raise FaultRefused(f"set_routing_control: the {ctx.target.kind} driver has no ARC routing control")
        if state not in ("On", "Off"):
            raise FaultRefused(f"set_routing_control: state {state!r} is unknown: use On or Off")
        name = ctx.target.region(region).name if region else ctx.target.primary.name
        if dns.control_of(name) is None:
            raise FaultRefused(f"set_routing_control: target {ctx.target.name!r} names no ARC routing control for "
                               f"{name}: add it to front_door.dns.routing_controls")
        return lambda: driver.set_routing_control(name, state)

    return _inject("set_routing_control", configuration, call, region=region, state=state)


@runtime_checkable
class AlbOutageDriver(Protocol):
    """A driver that can take a region's ALB out (the lab's route53-failover front door)."""

    def set_alb_outage(self, region: str, down: bool = True) -> FaultOutcome: ...


def lose_region_front_door(region: str = "", configuration: Configuration = None,
                           secrets: Secrets = None) -> dict[str, Any]:
    """The ALB of ``region`` (default: the primary) answers 503 to every request: clients fail until DNS moves
    them (its Route 53 health check fails by itself after threshold x interval) and their cache lets them.
    Reverted: the lab's ALB gets its ready pods back; on AWS the 503 listener rule is deleted."""

    def call(ctx: ActivityContext) -> Apply:
        _dns(ctx, "lose_region_front_door")
        if not isinstance(ctx.driver, AlbOutageDriver):
            raise FaultRefused(f"lose_region_front_door: the {ctx.target.kind} driver cannot take an ALB out: "
                               "use fail_dns_health_check on this target")
        driver = ctx.driver
        name = ctx.target.region(region).name if region else ctx.target.primary.name
        return lambda: driver.set_alb_outage(name, True)

    return _inject("lose_region_front_door", configuration, call, region=region)


def _providers(experiment: Mapping[str, Any]) -> set[tuple[str, str]]:
    steps = [*((experiment.get("steady-state-hypothesis") or {}).get("probes") or []),
             *(experiment.get("method") or []), *(experiment.get("rollbacks") or [])]
    providers = [s.get("provider") or {} for s in steps if isinstance(s, Mapping)]
    return {(str(p.get("module")), str(p.get("func"))) for p in providers if isinstance(p, Mapping)}


def require_dns_front_door(experiment: Mapping[str, Any], target: Target, name: str) -> None:
    """:class:`UsageError` (before anything starts) when experiment ``name`` uses DNS faults or probes and
    ``target`` has no DNS front door, or turns a routing control the target does not name."""
    providers = _providers(experiment)
    if not {module for module, _ in providers} & set(DNS_MODULES):
        return
    dns = target.front_door.dns
    if target.front_door.kind != "route53-failover" or dns is None:
        raise UsageError(f"experiment {name} needs a DNS front door, but target {target.name!r} has front_door.kind "
                         f"{target.front_door.kind}: {FRONT_DOOR_FIX} (or describe front_door.dns on an AWS target)")
    if ("aftershock.faults.dns", "set_routing_control") not in providers:
        return
    if not dns.routing_controls or (target.kind == "aws" and not dns.cluster_endpoints):
        missing = "routing_controls" if not dns.routing_controls else "cluster_endpoints"
        raise UsageError(f"experiment {name} turns an ARC routing control, but target {target.name!r} has no "
                         f"front_door.dns.{missing}: add the routing controls (region, arn) and the ARC cluster's "
                         "endpoints (region, url), or run dns-failover instead")
