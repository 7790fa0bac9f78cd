"""The lab's settings: defaults scaled down from AWS so an experiment takes seconds, not minutes.

    setting                          AWS / Kubernetes         lab default
    HPA sync period                  15 s                     3 s
    HPA scale-down stabilization     300 s                    30 s
    pod replacement (schedule+start) several seconds          2 s + process start (~1 s)
    Aurora writer failure detection  ~10-30 s                 0.2 s checks (2 misses)
    ALB / GA health checks           see lab/envoy/models.py
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aftershock.lab.envoy.models import ALB_LAB_HEALTH, GA_LAB_HEALTH, HealthCheckSettings
from aftershock.lab.k8s.controller import ControllerSettings


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
    db_detection_interval_s: float = 0.2
    db_rebuild_delay_s: float = 5.0
    products: int = 3000
    users: int = 5000
