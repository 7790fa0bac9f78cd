"""Timing profiles of the lab: ``fast`` (the default, clocks scaled down so an experiment takes seconds), ``aws``
(AWS and Kubernetes defaults, so a team can rehearse the RTO its real configuration implies) or a target file
(the ``aws`` profile with that target's own health checks).

    setting                          fast        aws (published default)
    ALB health check                 0.5 s/0.4 s, 2/2   30 s interval, 5 s timeout, healthy 5, unhealthy 2
    GA health check                  1 s/0.5 s, 2/2     10 s interval, threshold 3 (timeout 5 s: ours)
    Aurora writer failure detection  0.2 s checks       5 s checks, 2 misses (+ promotion: the 10-16 s clients
                                                        measured, "typically within 30 s")
    pod start (schedule + start)     2 s                10 s ("several seconds")
    readiness probe period           0.2 s              10 s (Kubernetes' default)
    dead pod deregistration          2 s                10 s (endpoint removal + AWS Load Balancer Controller)
    HPA sync / scale-down window     3 s / 30 s         15 s / 300 s
    identity export period           3 s                300 s (the seed's scheduled export: an EventBridge rule
                                                        runs at most once a minute; a target file: its own)

Example::

    settings = load_timings("aws").apply(LabSettings())
    load_timings("targets/my-aws.yaml").name      # 'targets/my-aws.yaml'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.errors import UsageError
from aftershock.core.target import HealthCheck, load_target
from aftershock.lab.config import LabSettings
from aftershock.lab.envoy.models import (
    ALB_AWS_HEALTH,
    ALB_LAB_HEALTH,
    GA_AWS_HEALTH,
    GA_LAB_HEALTH,
    HealthCheckSettings,
)
from aftershock.lab.k8s.controller import ControllerSettings

PROFILES = ("fast", "aws")


@dataclass(frozen=True, kw_only=True)
class LabTimings:
    """The clocks of one profile; :meth:`apply` puts them into :class:`LabSettings`."""

    name: str
    ga_health: HealthCheckSettings
    alb_health: HealthCheckSettings
    db_detection_interval_s: float
    pod_start_delay_s: float
    readiness_period_s: float
    deregistration_delay_s: float
    hpa_sync_period_s: float
    hpa_scale_down_stabilization_s: float
    identity_export_period_s: float
    """The seed's export of users to the global table (and import into the standby pool)."""

    def apply(self, settings: LabSettings) -> LabSettings:
        """``settings`` with this profile's clocks (everything else unchanged)."""
        controller = dataclasses.replace(settings.controller, pod_start_delay_s=self.pod_start_delay_s,
                                         readiness_period_s=self.readiness_period_s,
                                         deregistration_delay_s=self.deregistration_delay_s)
        identity = dataclasses.replace(settings.identity, export_period_s=self.identity_export_period_s)
        return dataclasses.replace(settings, ga_health=self.ga_health, alb_health=self.alb_health,
                                   db_detection_interval_s=self.db_detection_interval_s, controller=controller,
                                   hpa_sync_period_s=self.hpa_sync_period_s,
                                   hpa_scale_down_stabilization_s=self.hpa_scale_down_stabilization_s,
                                   identity=identity)


_DEFAULTS = LabSettings()
FAST = LabTimings(name="fast", ga_health=GA_LAB_HEALTH, alb_health=ALB_LAB_HEALTH,
                  db_detection_interval_s=_DEFAULTS.db_detection_interval_s,
                  pod_start_delay_s=ControllerSettings().pod_start_delay_s,
                  readiness_period_s=ControllerSettings().readiness_period_s,
                  deregistration_delay_s=ControllerSettings().deregistration_delay_s,
                  hpa_sync_period_s=_DEFAULTS.hpa_sync_period_s,
                  hpa_scale_down_stabilization_s=_DEFAULTS.hpa_scale_down_stabilization_s,
                  identity_export_period_s=_DEFAULTS.identity.export_period_s)
AWS = LabTimings(name="aws", ga_health=GA_AWS_HEALTH, alb_health=ALB_AWS_HEALTH, db_detection_interval_s=5.0,
                 pod_start_delay_s=10.0, readiness_period_s=10.0, deregistration_delay_s=10.0,
                 hpa_sync_period_s=15.0, hpa_scale_down_stabilization_s=300.0, identity_export_period_s=300.0)


def _health(check: HealthCheck | None, default: HealthCheckSettings) -> HealthCheckSettings:
    if check is None:
        return default
    return HealthCheckSettings(interval_s=check.interval_s, timeout_s=check.timeout_s,
                               healthy_threshold=check.healthy_threshold,
                               unhealthy_threshold=check.unhealthy_threshold, path=default.path)


def load_timings(spec: str) -> LabTimings:
    """``fast``, ``aws``, or a target file: the ``aws`` profile with the file's front-door and first load-balancer
    health checks (the lab keeps its own check paths) and its identity export period. Raises UsageError naming the
    culprit."""
    if spec in PROFILES:
        return FAST if spec == "fast" else AWS
    path = Path(spec)
    if not path.is_file():
        raise UsageError(f"--timings {spec!r} is neither a profile ({', '.join(PROFILES)}) nor a target file: "
                         "pass fast, aws or the path of a target YAML")
    target = load_target(path)
    alb = next((lb.health_check for lb in target.load_balancers if lb.health_check is not None), None)
    export_s = target.identity.export_period_s if target.identity is not None else AWS.identity_export_period_s
    return dataclasses.replace(AWS, name=str(spec), ga_health=_health(target.front_door.health_check, GA_AWS_HEALTH),
                               alb_health=_health(alb, ALB_AWS_HEALTH), identity_export_period_s=export_s)


def ready_timeout_s(settings: LabSettings) -> float:
    """How long the supervisor waits for a settled front door: 45 s, plus 4 GA check intervals (slow clocks)."""
    return 45.0 + 4 * settings.ga_health.interval_s


__all__ = ["AWS", "FAST", "PROFILES", "LabTimings", "load_timings", "ready_timeout_s"]
