"""Observers: one look at the AWS target, as the lab gives it (``aftershock.faults.driver.Observation``) plus AWS
detail.

- writer and its region: ``describe_global_clusters`` (the writer member) and ``describe_db_clusters``;
- replication lag per secondary cluster: CloudWatch ``AWS/RDS AuroraGlobalDBReplicationLag`` (milliseconds, the
  newest datapoint of the last 10 minutes, not an arbitrary one);
- replicas per region: the HPA's desired replicas (``autoscaling/v2``) or the deployment's spec, and the
  deployment's ready replicas;
- dials and endpoint health: Global Accelerator ``list_endpoint_groups`` of every listener (a region's dial is
  the lowest of its groups; healthy only when every group is at its baseline);
- ASG desired/in-service (``aws.regions[].asg_names``), ALB target health (``load_balancers[].target_group_arn``);
- AZs down: our blackhole network ACLs, found by their tags, and our FIS experiments still running (FIS mode).

The ALB target health and GA endpoint health also go into the observation (so into ``samples.jsonl``): their
transitions are RTO phase boundaries (:mod:`aftershock.faults.aws.health_events`). With a ``route53-failover``
front door the driver adds Route 53's view (``dns``: each health check's status by AWS's 18 % rule, each ARC
routing control's state, ``test_dns_answer``; :mod:`aftershock.faults.aws.dns_observe`), whose transitions are
phase boundaries too (:mod:`aftershock.faults.aws.dns_events`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aftershock.core.target import Target
from aftershock.faults.aws import pods
from aftershock.faults.aws.aurora import Aurora, Writer
from aftershock.faults.aws.az_outage import AzOutage
from aftershock.faults.aws.calls import ApiCall, CallRecorder
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws.traffic import FrontDoor
from aftershock.faults.driver import Observation, RegionReplicas


@dataclass(frozen=True)
class AwsView:
    """What the AWS observers saw, beyond :class:`Observation`."""

    asgs: dict[str, tuple[int, int]] = field(default_factory=dict)          # name -> (desired, in service)
    alb_targets: dict[str, tuple[int, int]] = field(default_factory=dict)   # load balancer -> (healthy, total)
    endpoints_healthy: dict[str, bool] = field(default_factory=dict)        # region -> GA endpoints healthy
    alb_states: dict[str, dict[str, int]] = field(default_factory=dict)     # load balancer -> target state -> count


class Observer:
    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder, kube: pods.KubeClients,
                 aurora: Aurora | None, front: FrontDoor, azs: AzOutage) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec
        self._kube = kube
        self._aurora = aurora
        self._front = front
        self._azs = azs

    def __repr__(self) -> str:
        return f"Observer(target={self._target.name!r})"

    def replicas(self) -> tuple[RegionReplicas, ...]:
        found = []
        for d in self._target.deployments:
            w = next(w for w in pods.workloads(self._target, d.region) if w.name == d.name)
            self._rec.observe(ApiCall("kubernetes", d.region, "read_namespaced_deployment",
                                      {"context": w.context, "namespace": d.namespace, "name": d.name}, False))
            dep: Any = self._kube.apps(w.context).read_namespaced_deployment(d.name, d.namespace)
            desired = int(dep.spec.replicas or 0)
            if d.autoscaler is not None:
                self._rec.observe(ApiCall("kubernetes", d.region, "read_namespaced_horizontal_pod_autoscaler",
                                          {"context": w.context, "namespace": d.namespace, "name": d.name}, False))
                api = self._kube.autoscaling(w.context)
                hpa: Any = api.read_namespaced_horizontal_pod_autoscaler(d.name, d.namespace)
                desired = int(hpa.status.desired_replicas or 0)
            found.append(RegionReplicas(d.region, desired, int(dep.status.ready_replicas or 0)))
        return tuple(found)

    def replication_lag_s(self, writer_region: str | None) -> dict[str, float | None]:
        lags: dict[str, float | None] = {}
        if self._target.database is None or not self._target.database.global_cluster:
            return lags
        end = datetime.now(UTC) + timedelta(minutes=1)  # past the current period, so the newest point counts
        for cluster in self._target.database.clusters:
            if cluster.region == writer_region:
                continue
            cw = self._sessions.client("cloudwatch", cluster.region)
            metric = {"Namespace": "AWS/RDS", "MetricName": "AuroraGlobalDBReplicationLag",
                      "Dimensions": [{"Name": "DBClusterIdentifier", "Value": cluster.name}]}
            answer = self._rec.read(cw, "get_metric_data", StartTime=end - timedelta(minutes=11), EndTime=end,
                                    ScanBy="TimestampDescending", MetricDataQueries=[{
                                        "Id": "lag", "ReturnData": True,
                                        "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Average"}}])
            results = answer.get("MetricDataResults", [])
            points = sorted(zip(results[0].get("Timestamps", []), results[0].get("Values", []), strict=False),
                            reverse=True) if results else []
            lags[cluster.name] = round(points[0][1] / 1000.0, 3) if points else None
        return lags

    def view(self, front_groups: dict[str, list[dict[str, Any]]] | None = None) -> AwsView:
        """ASGs, ALB targets and GA endpoint health (of ``front_groups`` when just listed)."""
        asgs: dict[str, tuple[int, int]] = {}
        for region in self._target.regions:
            names = list(self._target.aws.region(region.name).asg_names) if self._target.aws else []
            if names:
                client = self._sessions.client("autoscaling", region.name)
                for g in self._rec.read(client, "describe_auto_scaling_groups",
                                        AutoScalingGroupNames=names)["AutoScalingGroups"]:
                    in_service = sum(1 for i in g.get("Instances", []) if i.get("LifecycleState") == "InService")
                    asgs[g["AutoScalingGroupName"]] = (int(g["DesiredCapacity"]), in_service)
        albs: dict[str, tuple[int, int]] = {}
        states: dict[str, dict[str, int]] = {}
        for lb in self._target.load_balancers:
            if lb.target_group_arn:
                client = self._sessions.client("elbv2", lb.region)
                health = self._rec.read(client, "describe_target_health",
                                        TargetGroupArn=lb.target_group_arn)["TargetHealthDescriptions"]
                healthy = sum(1 for t in health if t["TargetHealth"]["State"] == "healthy")
                albs[lb.name] = (healthy, len(health))
                states[lb.name] = dict(Counter(str(t["TargetHealth"]["State"]) for t in health))
        return AwsView(asgs, albs, self._front.endpoints_healthy(front_groups), states)

    def observe(self) -> tuple[Observation, AwsView]:
        writer: Writer | None = self._aurora.writer() if self._aurora is not None else None
        replicas = self.replicas()
        front_groups = self._front.endpoint_groups()
        group_dials = self._front.group_dials(front_groups)
        dials = {region: min(groups.values()) for region, groups in group_dials.items() if groups}
        azs_down = tuple(az for r in self._target.regions for az in self._azs.down_azs(r.name))
        view = self.view(front_groups)
        baseline = {g.region: g.traffic_dial for g in self._target.front_door.endpoint_groups}
        healthy = (
            (writer is None or (writer.instance is not None and writer.region == self._target.primary.name))
            and not azs_down
            and dials == baseline
            and all(d == baseline.get(region) for region, groups in group_dials.items() for d in groups.values())
            and all(r.ready >= r.desired > 0 for r in replicas)
            and all(in_service >= desired for desired, in_service in view.asgs.values())
            and all(total > 0 and ok == total for ok, total in view.alb_targets.values())
            and all(ok for region, ok in view.endpoints_healthy.items() if baseline.get(region, 0) > 0)
        )
        observation = Observation(
            ts=time.time(), writer=writer.instance if writer else None,
            writer_region=writer.region if writer else None, replicas=replicas, dials=dials, azs_down=azs_down,
            replication_lag_bytes={}, replication_lag_s=self.replication_lag_s(writer.region if writer else None),
            healthy=healthy, alb_target_states=dict(view.alb_states),
            endpoints_healthy=dict(view.endpoints_healthy))
        return observation, view
