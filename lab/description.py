"""The lab as a target description (``~/.aftershock/lab/target.yaml``): what ``--target lab`` reads."""

from __future__ import annotations

from pathlib import Path

from aftershock.core.route53 import DnsHealthCheck, Route53, RoutingControl
from aftershock.core.target import (
    Autoscaler as AutoscalerSpec,
)
from aftershock.core.target import (
    Database,
    DbCluster,
    DbInstance,
    Deployment,
    EndpointGroup,
    FrontDoor,
    HealthCheck,
    LabControl,
    LoadBalancer,
    Region,
    Target,
)
from aftershock.core.workload import Workload
from aftershock.lab import topology
from aftershock.lab.config import LabSettings
from aftershock.lab.dns.control import lab_arn
from aftershock.lab.envoy import EnvoyLayout
from aftershock.lab.envoy.models import HealthCheckSettings


def _health(s: HealthCheckSettings) -> HealthCheck:
    return HealthCheck(path=s.path, interval_s=s.interval_s, timeout_s=s.timeout_s,
                       healthy_threshold=s.healthy_threshold, unhealthy_threshold=s.unhealthy_threshold)


def _route53(s: LabSettings, layout: EnvoyLayout) -> Route53:
    d = s.dns
    return Route53(zone=d.zone, record=d.record, ttl_s=d.ttl_s, answers=dict(d.alb_hosts),
                   health_checks=tuple(DnsHealthCheck(region=r, id=f"hc-{r}", interval_s=d.health.interval_s,
                                                      failure_threshold=d.health.failure_threshold,
                                                      path=d.health.path) for r in layout.regions),
                   private_zone=d.private_zone, db_writer_record=f"writer.{d.private_zone}",
                   routing_controls=tuple(RoutingControl(region=r, arn=lab_arn(r), health_check=f"rc-{r}")
                                          for r in layout.regions))


def describe_lab(s: LabSettings, layout: EnvoyLayout, front_door_url: str, lab_dir: Path,
                 control_url: str, *, dns_port: int | None = None) -> Target:
    """The running lab as a target description: what `--target lab` reads. ``dns_port``: the lab runs Route 53
    (``route53-failover``): clients resolve the shop's name through it and connect to the ALB it answers."""
    regions = tuple(Region(name=r.name, role="primary" if r.role == "primary" else "secondary", azs=r.azs)
                    for r in topology.REGIONS)
    lbs = tuple(LoadBalancer(name=f"alb-{r}", region=r, url=f"http://{layout.alb_host(r)}:{layout.alb[r]}",
                             health_check=_health(s.alb_health)) for r in layout.regions)
    deployments = tuple(
        Deployment(name="shop", region=region, replicas=d.replicas,
                   autoscaler=AutoscalerSpec(min_replicas=d.min_replicas, max_replicas=d.max_replicas,
                                             metric="rps_per_pod", target_value=d.target_rps_per_pod,
                                             sync_period_s=s.hpa_sync_period_s,
                                             scale_down_stabilization_s=s.hpa_scale_down_stabilization_s))
        for region, d in s.deployments.items())
    clusters = tuple(
        DbCluster(name=topology.DB_CLUSTERS[r.name], region=r.name, role=r.role,  # type: ignore[arg-type]
                  reader_endpoint=f"127.0.0.1:{layout.db_readers[r.name]}",
                  writer_endpoint=f"127.0.0.1:{layout.db_writer}" if r.role == "primary" else None,
                  instances=tuple(DbInstance(name=i.name, az=i.az, role=i.initial_role)  # type: ignore[arg-type]
                                  for i in topology.DB_INSTANCES if i.region == r.name))
        for r in topology.REGIONS)
    route53 = dns_port is not None
    return Target(
        name="lab", kind="lab", regions=regions,
        front_door=FrontDoor(
            kind="route53-failover" if route53 else "global-accelerator",
            url=f"http://{s.dns.record}:{layout.alb[layout.primary]}" if route53 else front_door_url,
            health_check=_health(s.ga_health), dns=_route53(s, layout) if route53 else None,
            endpoint_groups=tuple(EndpointGroup(region=r, traffic_dial=s.dials[r], load_balancer=f"alb-{r}")
                                  for r in layout.regions)),
        load=Workload(resolver=f"127.0.0.1:{dns_port}") if route53 else Workload(),
        load_balancers=lbs, deployments=deployments,
        database=Database(engine="postgresql", global_cluster=topology.GLOBAL_CLUSTER,
                          global_writer_endpoint=f"127.0.0.1:{layout.db_writer}",
                          database=topology.DB_NAME, user=topology.DB_USER, password_from="lab",
                          clusters=clusters),
        objectives_tier="lab",
        lab=LabControl(control_url=control_url, home=str(lab_dir)),
    )
