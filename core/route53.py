"""A target's DNS front door (``front_door.kind: route53-failover``): the Route 53 records clients resolve.

Example (an AWS target)::

    front_door:
      kind: route53-failover
      url: https://shop.example.com
      endpoint_groups: [{region: us-east-1, traffic_dial: 100, load_balancer: alb-east}, ...]
      dns:
        hosted_zone_id: Z0123456789ABC
        zone: example.com
        record: shop.example.com
        ttl_s: 60
        answers: {us-east-1: east-alb-123.us-east-1.elb.amazonaws.com, us-west-2: west-alb-456.us-west-2.elb...}
        health_checks:
          - {region: us-east-1, id: 0f0e-...-primary, interval_s: 30, failure_threshold: 3, path: /health}
        routing_controls:   # optional: Route 53 ARC, each tied to a RECOVERY_CONTROL health check of its record
          - {region: us-east-1, arn: "arn:aws:route53-recovery-control::111111111111:controlpanel/a/routingcontrol/b"}
        cluster_endpoints:  # the ARC cluster's five regional endpoints (describe_cluster's ClusterEndpoints)
          - {region: us-west-2, url: https://host-dddddd.us-west-2.example.com/v1}

``answers`` says which region an answer means (an address, or the ALB's DNS name a CNAME/alias points at);
``health_checks`` are the only checks a fault may touch, ``hosted_zone_id`` the only zone, ``routing_controls``
the only routing controls (and ``safety_rules_to_override`` the only ARC safety rules a change may override).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DnsHealthCheck(_Model):
    region: str
    id: str = Field(min_length=1)
    interval_s: float = Field(default=30.0, gt=0)
    failure_threshold: int = Field(default=3, ge=1, le=10)
    path: str = "/health"


class RoutingControl(_Model):
    """A Route 53 ARC routing control: On lets its region's record answer, Off takes it out (its RECOVERY_CONTROL
    health check, ``health_check`` in Route 53, turns unhealthy at once; no probing)."""

    region: str
    arn: str = Field(min_length=1)
    health_check: str | None = None


class ClusterEndpoint(_Model):
    """One regional endpoint of the ARC cluster hosting the routing controls (any of them may be down)."""

    region: str
    url: str = Field(pattern=r"^https?://")


class Route53(_Model):
    zone: str
    record: str
    ttl_s: float = Field(default=60.0, ge=0)
    hosted_zone_id: str | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    health_checks: tuple[DnsHealthCheck, ...] = ()
    private_zone: str | None = None
    db_writer_record: str | None = None
    """The private zone's CNAME of the database writer (e.g. ``writer.db.example.internal``)."""
    routing_controls: tuple[RoutingControl, ...] = ()
    cluster_endpoints: tuple[ClusterEndpoint, ...] = ()
    safety_rules_to_override: tuple[str, ...] = ()

    def check_of(self, region: str) -> DnsHealthCheck | None:
        return next((c for c in self.health_checks if c.region == region), None)

    def control_of(self, region: str) -> RoutingControl | None:
        return next((c for c in self.routing_controls if c.region == region), None)

    def region_of(self, answer: str | None) -> str | None:
        """The region whose record answers ``answer`` (None: unknown)."""
        if answer is None:
            return None
        wanted = answer.lower().rstrip(".")
        return next((r for r, a in self.answers.items() if a.lower().rstrip(".") == wanted), None)


__all__ = ["ClusterEndpoint", "DnsHealthCheck", "Route53", "RoutingControl"]
