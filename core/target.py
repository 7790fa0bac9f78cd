"""The target description: one validated, typed model for the lab and for a real AWS stack.

A target file (YAML) describes the seed architecture: two regions (primary/secondary) with their AZs, the
front door (Global Accelerator endpoint groups with traffic dials), one load balancer per region, the shop
deployments with their autoscalers, the database (clusters per region inside one global cluster) and the
objectives. The lab writes its own description when it starts (``~/.aftershock/lab/target.yaml``); ``--target lab``
(the default everywhere) reads it.

Example::

    target = load_target("targets/example-aws.yaml")
    target.region("us-east-1").azs
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aftershock.core import paths
from aftershock.core.errors import TargetError
from aftershock.core.fis_templates import FisTemplates
from aftershock.core.identity import Identity
from aftershock.core.route53 import Route53
from aftershock.core.workload import Workload, rebase


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Model):
    name: str
    role: Literal["primary", "secondary"]
    azs: tuple[str, ...] = Field(min_length=1)


class EndpointGroup(_Model):
    region: str
    traffic_dial: int = Field(ge=0, le=100)
    load_balancer: str


class HealthCheck(_Model):
    path: str = "/health"
    interval_s: float = Field(gt=0)
    timeout_s: float = Field(gt=0)
    healthy_threshold: int = Field(ge=1)
    unhealthy_threshold: int = Field(ge=1)


class FrontDoor(_Model):
    kind: Literal["global-accelerator", "route53-failover"] = "global-accelerator"
    url: str
    accelerator_arn: str | None = None
    listener_arn: str | None = None
    endpoint_groups: tuple[EndpointGroup, ...] = Field(min_length=1)
    health_check: HealthCheck | None = None
    dns: Route53 | None = None
    """``kind: route53-failover``: the records clients resolve (:mod:`aftershock.core.route53`)."""


class LoadBalancer(_Model):
    name: str
    region: str
    url: str | None = None
    arn: str | None = None
    target_group_arn: str | None = None
    health_check: HealthCheck | None = None


class Autoscaler(_Model):
    min_replicas: int = Field(ge=0)
    max_replicas: int = Field(ge=1)
    metric: Literal["rps_per_pod", "cpu"] = "rps_per_pod"
    target_value: float = Field(gt=0)
    sync_period_s: float = Field(gt=0, default=15.0)
    scale_down_stabilization_s: float = Field(ge=0, default=300.0)

    @model_validator(mode="after")
    def _min_le_max(self) -> Autoscaler:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} > max_replicas {self.max_replicas}")
        return self


class Deployment(_Model):
    name: str
    region: str
    namespace: str = "shop"
    label_selector: str = "app=shop"
    replicas: int = Field(ge=0)
    kube_context: str | None = None
    autoscaler: Autoscaler | None = None


class DbInstance(_Model):
    name: str
    az: str
    role: Literal["writer", "reader"]


class DbCluster(_Model):
    name: str
    region: str
    role: Literal["primary", "secondary"]
    writer_endpoint: str | None = None
    reader_endpoint: str | None = None
    instances: tuple[DbInstance, ...] = Field(min_length=1)


class Database(_Model):
    engine: Literal["aurora-postgresql", "postgresql"] = "aurora-postgresql"
    global_cluster: str | None = None
    global_writer_endpoint: str | None = None
    database: str = "shop"
    user: str = "shop"
    # where the password comes from: "lab" (the lab's own secret file), "env:VAR" or "secretsmanager:ARN"
    password_from: str = "env:AFTERSHOCK_DB_PASSWORD"
    clusters: tuple[DbCluster, ...] = Field(min_length=1)


class DataStores(_Model):
    """The seeds' data stores beyond Aurora: a DynamoDB global table (same name in every region) and an S3 bucket
    per region, replicated from the primary's. ``endpoints``: the AWS API endpoint URL per region (the lab's
    stand-ins; empty on AWS). The store ledgers write under ``ledger_prefix`` and delete what they wrote."""

    table: str | None = None
    buckets: dict[str, str] = Field(default_factory=dict)
    endpoints: dict[str, str] = Field(default_factory=dict)
    ledger_prefix: str = "aftershock-ledger"


class LabControl(_Model):
    control_url: str
    home: str


class AwsRegionSettings(_Model):
    """Where one region's resources are, for the AWS driver (everything optional but ``name``).

    ``vpc_id`` bounds the blast radius of an AZ outage: only subnets, instances and auto scaling groups of this
    VPC are touched. ``subnets`` (AZ -> subnet ids) narrows it to those subnets: only they are blackholed and only
    instances in them are stopped. ``asg_names`` narrows it to those groups: only they lose the AZ, and only their
    instances are stopped (bastions, NAT instances and other teams' groups are left alone). ``kube_context`` defaults
    to the region's deployments' ``kube_context``. ``fis_templates`` maps an AZ to the id of an AWS FIS experiment
    template ("AZ Availability: Power Interruption"), used when ``aws.az_outage: fis``.
    """

    name: str
    vpc_id: str | None = None
    subnets: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    asg_names: tuple[str, ...] = ()
    kube_context: str | None = None
    fis_templates: dict[str, str] = Field(default_factory=dict)


class AzOutageSettings(_Model):
    """How the AWS driver takes an AZ down (``aws.az_outage``; a bare ``direct`` or ``fis`` sets ``mode`` only).

    ``tags``: an instance is stopped only when it carries every one of these tags (an opt-in such as
    ``{"aftershock:az-outage": "true"}``), on top of the AZ, the subnets and the ASGs. Spot instances are never
    stopped (EC2 refuses to stop most of them, and one fails the whole call): they are listed as left alone.

    Example::

        az_outage: {mode: direct, tags: {"aftershock:az-outage": "true"}}
    """

    mode: Literal["direct", "fis"] = "direct"
    tags: dict[str, str] = Field(default_factory=dict)


class AwsSettings(_Model):
    allowed_account_ids: tuple[str, ...] = Field(min_length=1)
    ga_region: str = "us-west-2"
    profile: str | None = None
    role_arn: str | None = None
    # optional, for the AWS driver (aftershock.faults.aws)
    kubeconfig: str | None = None
    az_outage: AzOutageSettings = Field(default_factory=AzOutageSettings)
    # suspended on the ASGs that lose the AZ: none by default (the ASG loses the AZ's subnets instead, so its
    # healthy AZs keep healing and scaling); "AZRebalance" keeps it from moving instances around meanwhile
    asg_suspend_processes: tuple[str, ...] = ()
    regions: tuple[AwsRegionSettings, ...] = ()
    poll_interval_s: float = Field(gt=0, default=5.0)
    wait_timeout_s: float = Field(gt=0, default=900.0)
    # how long recover and the safety net wait for the baseline; default: derived from the health checks
    health_wait_s: float | None = Field(gt=0, default=None)
    # time for a stopped instance to start, join its cluster and get its pods ready (part of the derived wait)
    instance_start_s: float = Field(ge=0, default=300.0)
    # one run per target at a time: the DynamoDB table (partition key ``lock_id``, a string) holding the lease, in
    # the primary region; a lease not renewed for ``lock_ttl_s`` (its holder died) expires
    lock_table: str = "aftershock-locks"
    lock_ttl_s: float = Field(gt=0, default=300.0)
    # FIS templates that pause the data stores' replication (:mod:`aftershock.core.fis_templates`); else the APIs
    fis_templates: FisTemplates = Field(default_factory=FisTemplates)

    @field_validator("az_outage", mode="before")
    @classmethod
    def _mode_only(cls, value: object) -> object:
        return {"mode": value} if isinstance(value, str) else value

    def region(self, name: str) -> AwsRegionSettings:
        """The settings of region ``name`` (empty ones when the file has none)."""
        return next((r for r in self.regions if r.name == name), AwsRegionSettings(name=name))


class Target(_Model):
    name: str
    kind: Literal["lab", "aws"]
    regions: tuple[Region, ...] = Field(min_length=1, max_length=2)
    front_door: FrontDoor
    load_balancers: tuple[LoadBalancer, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    database: Database | None = None
    objectives_tier: str = "warm-standby"
    objectives: dict[str, float] = Field(default_factory=dict)
    slow_ms: float = Field(default=1000.0, gt=0)
    """A success slower than this counts as bad for outages and the RTO (an experiment's ``aftershock_slow_ms``
    overrides it); the steady-state SLO probes judge latency on their own."""
    data_stores: DataStores | None = None
    identity: Identity | None = None
    """The Cognito user pool per region and the migration path (:mod:`aftershock.core.identity`)."""
    lab: LabControl | None = None
    aws: AwsSettings | None = None
    load: Workload = Field(default_factory=Workload)
    """Locustfile, fresh-connection probe, HTTP and load settings (:mod:`aftershock.core.workload`)."""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"region names repeat: {names}")
        if [r.role for r in self.regions].count("primary") != 1:
            raise ValueError("exactly one region must have role: primary")
        known = set(names)
        for where, region in self._region_refs():
            if region not in known:
                raise ValueError(f"{where} names region {region!r}, which is not in regions {sorted(known)}")
        if self.front_door.kind == "route53-failover" and self.front_door.dns is None:
            raise ValueError("front_door.kind route53-failover needs front_door.dns (zone, record, answers, ...)")
        if self.kind == "lab" and self.lab is None:
            raise ValueError("a lab target needs a 'lab' section (control_url, home)")
        if self.kind == "aws" and self.aws is None:
            raise ValueError("an aws target needs an 'aws' section (allowed_account_ids, ...)")
        stores = self.data_stores or DataStores()
        fis = self.aws.fis_templates.problem(table=stores.table, buckets=stores.buckets,
                                             primary=self.primary.name) if self.aws else None
        if fis:
            raise ValueError(fis)
        return self

    def _region_refs(self) -> list[tuple[str, str]]:
        refs = [(f"front_door.endpoint_groups[{i}]", g.region) for i, g in enumerate(self.front_door.endpoint_groups)]
        refs += [(f"load_balancers[{i}]", lb.region) for i, lb in enumerate(self.load_balancers)]
        refs += [(f"deployments[{i}]", d.region) for i, d in enumerate(self.deployments)]
        if self.database:
            refs += [(f"database.clusters[{i}]", c.region) for i, c in enumerate(self.database.clusters)]
        if self.aws:
            refs += [(f"aws.regions[{i}]", r.name) for i, r in enumerate(self.aws.regions)]
            refs += self.aws.fis_templates.regions()
        if self.identity:
            refs += [(f"identity.pools[{i}]", p.region) for i, p in enumerate(self.identity.pools)]
        if self.front_door.dns:  # an ARC cluster endpoint's region need not be one of the target's
            refs += [(f"front_door.dns.routing_controls[{i}]", c.region)
                     for i, c in enumerate(self.front_door.dns.routing_controls)]
        return refs

    @property
    def health_wait_s(self) -> float:
        """How long to wait for the baseline after the faults are reverted: ``aws.health_wait_s`` when set, else
        the slowest load balancer's and the front door's health checks turning healthy (threshold x interval),
        plus ``aws.instance_start_s`` on AWS; never under 180 s."""
        if self.aws is not None and self.aws.health_wait_s is not None:
            return self.aws.health_wait_s
        alb = max((c.healthy_threshold * (c.interval_s + c.timeout_s) for c in
                   (lb.health_check for lb in self.load_balancers) if c is not None), default=0.0)
        ga = self.front_door.health_check
        front = ga.healthy_threshold * (ga.interval_s + ga.timeout_s) if ga is not None else 0.0
        start = self.aws.instance_start_s if self.aws is not None else 0.0
        return max(180.0, alb + front + start)

    @property
    def primary(self) -> Region:
        return next(r for r in self.regions if r.role == "primary")

    @property
    def secondary(self) -> Region | None:
        return next((r for r in self.regions if r.role == "secondary"), None)

    def region(self, name: str) -> Region:
        """The region called ``name``; a clear error naming the known ones otherwise."""
        for region in self.regions:
            if region.name == name:
                return region
        known = ", ".join(r.name for r in self.regions)
        raise TargetError(f"unknown region {name!r} in target {self.name!r}: use one of {known}")

    def az(self, name: str) -> tuple[Region, str]:
        """The region holding AZ ``name``; a clear error naming the known AZs otherwise."""
        for region in self.regions:
            if name in region.azs:
                return region, name
        known = ", ".join(az for r in self.regions for az in r.azs)
        raise TargetError(f"unknown AZ {name!r} in target {self.name!r}: use one of {known}")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{field}: {err['msg']}"


def parse_target(data: object, source: str) -> Target:
    """Validate a target description (already parsed YAML); errors name ``source`` and the field."""
    if not isinstance(data, dict):
        raise TargetError(f"{source}: a target description must be a mapping, got {type(data).__name__}")
    try:
        return Target.model_validate(data)
    except ValidationError as exc:
        raise TargetError(f"{source}: invalid target, {_first_error(exc)} (fix the file and retry)") from exc


def load_target(ref: str | Path = "lab") -> Target:
    """Load ``lab`` (the running lab's description) or a target YAML file."""
    if str(ref) == "lab":
        path = paths.lab_target_file()
        if not path.exists():
            raise TargetError("no lab is running: start it with `aftershock lab up --detach`, or pass --target FILE")
    else:
        path = Path(ref)
        if not path.exists():
            raise TargetError(f"target file {str(path)!r} does not exist: pass --target lab or an existing YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TargetError(f"{path}: not valid YAML ({exc.__class__.__name__}); fix the syntax and retry") from exc
    target = parse_target(data, str(path))  # the load section's file paths are relative to the target file
    return target.model_copy(update={"load": rebase(target.load, path.resolve().parent)})


def dump_target(target: Target, path: Path) -> None:
    """Write a target description atomically (readers never see half a file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(target.model_dump(mode="json", exclude_none=True), sort_keys=False))
    tmp.replace(path)
