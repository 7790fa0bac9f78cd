"""The lab's settings: defaults scaled down from AWS so an experiment takes seconds, not minutes.

    setting                          AWS / Kubernetes         lab default
    HPA sync period                  15 s                     3 s
    HPA scale-down stabilization     300 s                    30 s
    pod replacement (schedule+start) several seconds          2 s + process start (~1 s)
    Aurora writer failure detection  ~10-30 s                 0.2 s checks (2 misses)
    ALB / GA health checks           see lab/envoy/models.py
    Route 53 health checks, TTL      see lab/dns/settings.py
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aftershock.lab.dns.settings import DnsLabSettings, FrontDoorKind
from aftershock.lab.envoy.models import ALB_LAB_HEALTH, GA_LAB_HEALTH, HealthCheckSettings
from aftershock.lab.identity.settings import IDENTITY_TABLE, IdentitySettings
from aftershock.lab.k8s.controller import ControllerSettings
from aftershock.lab.standins.replicator import ReplicationSettings
from aftershock.lab.standins.standins import StoreSettings


@dataclass(frozen=True, kw_only=True)
class RegionDeployment:
    replicas: int
    min_replicas: int
    max_replicas: int
    target_rps_per_pod: float


@dataclass(frozen=True, kw_only=True)
class LabSettings:
    """Everything that shapes a lab run; ``LabSettings()`` is the seed architecture."""

    deployments: dict[str, RegionDeployment] = field(default_factory=lambda: {
        "us-east-1": RegionDeployment(replicas=3, min_replicas=3, max_replicas=9, target_rps_per_pod=25.0),
        "us-west-2": RegionDeployment(replicas=2, min_replicas=2, max_replicas=9, target_rps_per_pod=25.0),
    })
    dials: dict[str, int] = field(default_factory=lambda: {"us-east-1": 100, "us-west-2": 0})
    hpa_sync_period_s: float = 3.0
    hpa_scale_down_stabilization_s: float = 30.0
    controller: ControllerSettings = field(default_factory=ControllerSettings)
    ga_health: HealthCheckSettings = GA_LAB_HEALTH
    alb_health: HealthCheckSettings = ALB_LAB_HEALTH
    front_door: FrontDoorKind = "global-accelerator"
    """``route53-failover``: clients resolve the shop through the lab's DNS and connect to the ALB it answers."""
    dns: DnsLabSettings = field(default_factory=DnsLabSettings)
    db_detection_interval_s: float = 0.2
    db_rebuild_delay_s: float = 5.0
    products: int = 3000
    users: int = 5000
    stores: StoreSettings = field(default_factory=lambda: StoreSettings(
        replication=ReplicationSettings(global_tables=("shop-carts", IDENTITY_TABLE))))
    """The DynamoDB global table and replicated S3 buckets of the AWS stand-ins (:mod:`aftershock.lab.standins`)."""
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    """The user pools and the seed's export/import of users (:mod:`aftershock.lab.identity`)."""
