"""The lab's networking, made of one real Envoy process.

* front door = AWS Global Accelerator: one endpoint group per region, traffic dials, health-checked failover;
* one ALB per region: the region's ready pods (EDS file), active health checks on ``/ready``;
* Aurora endpoints: a writer endpoint and a reader endpoint per region (TCP proxies, EDS files);
* JSON access logs: the independent record of what clients saw.
"""

from aftershock.lab.envoy.accesslog import AccessLogFollower, read_access_log
from aftershock.lab.envoy.models import (
    ALB_AWS_HEALTH,
    ALB_LAB_HEALTH,
    GA_AWS_HEALTH,
    GA_LAB_HEALTH,
    AccessRecord,
    Applied,
    Endpoint,
    EnvoyLayout,
    HealthCheckSettings,
    HostHealth,
)
from aftershock.lab.envoy.proxy import EnvoyProxy

__all__ = [
    "ALB_AWS_HEALTH",
    "ALB_LAB_HEALTH",
    "GA_AWS_HEALTH",
    "GA_LAB_HEALTH",
    "AccessLogFollower",
    "AccessRecord",
    "Applied",
    "Endpoint",
    "EnvoyLayout",
    "EnvoyProxy",
    "HealthCheckSettings",
    "HostHealth",
    "read_access_log",
]
