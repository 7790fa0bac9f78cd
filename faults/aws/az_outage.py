"""AZ outage on AWS, and its exact restore.

Direct mode (``aws.az_outage: direct``, the default), inside the region's ``aws.regions[].vpc_id`` only:

1. network: a new network ACL with no rules (deny-all both ways), tagged ``aftershock:fault=az-outage``,
   ``aftershock:az=AZ`` and ``aftershock:orig:SUBNET=ACL`` per subnet, replaces the association of each of the
   AZ's subnets; restore puts every subnet back on its original ACL and deletes the blackhole ACL;
2. Kubernetes: the nodes labelled ``topology.kubernetes.io/zone=AZ`` are cordoned (those already cordoned are
   left alone) and the target's pods on them deleted; restore uncordons exactly the nodes it cordoned;
3. EC2: the auto scaling groups of the VPC that span the AZ get ``aws.asg_suspend_processes`` suspended (only
   those not suspended already: restore resumes exactly those), then the running instances of the AZ are
   stopped; restore starts exactly those;
4. Aurora: if the writer is in the AZ, it fails over to a reader in another AZ (not reverted: it stays there).

FIS mode (``aws.az_outage: fis``): starts the FIS experiment template ``aws.regions[].fis_templates[AZ]``
("AZ Availability: Power Interruption"); restore stops the experiment (FIS then restores what it did).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.target import Target
from aftershock.faults.aws import pods
from aftershock.faults.aws.aurora import Aurora
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall

FAULT_TAG = "aftershock:fault"
AZ_TAG = "aftershock:az"
ORIG_TAG = "aftershock:orig:"


@dataclass
class AzRestore:
    """Everything ``az_restore`` needs to undo one AZ outage (JSON-able, kept in the fault journal)."""

    az: str
    nacls: dict[str, str] = field(default_factory=dict)
    blackhole_nacl: str | None = None
    nodes: list[dict[str, str | None]] = field(default_factory=list)
    asgs: dict[str, list[str]] = field(default_factory=dict)
    instances: list[str] = field(default_factory=list)
    fis_experiment: str | None = None

    def call(self) -> RevertCall:
        return RevertCall("az_restore", {"az": self.az, "nacls": dict(self.nacls),
                                         "blackhole_nacl": self.blackhole_nacl,
                                         "nodes": [dict(n) for n in self.nodes],
                                         "asgs": {k: list(v) for k, v in self.asgs.items()},
                                         "instances": list(self.instances), "fis_experiment": self.fis_experiment})


def _pages(rec: CallRecorder, client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        page = rec.read(client, operation, **params, **({"NextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


class AzOutage:
    """Takes one AZ of a region down, and brings it back exactly as it was."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder, kube: pods.KubeClients,
                 aurora: Callable[[], Aurora | None], *, poll_s: float, timeout_s: float) -> None:
        assert target.aws is not None
        self._target = target
        self._aws = target.aws
        self._sessions = sessions
        self._rec = rec
        self._kube = kube
        self._aurora = aurora
        self._poll_s = poll_s
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"AzOutage(target={self._target.name!r}, mode={self._aws.az_outage!r})"

    def _ec2(self, region: str) -> Any:
        return self._sessions.client("ec2", region)

    def _asg(self, region: str) -> Any:
        return self._sessions.client("autoscaling", region)

    def _vpc(self, region: str) -> str:
        vpc = self._aws.region(region).vpc_id
        if not vpc:
            raise FaultRefused(f"az_outage on AWS needs aws.regions[name={region}].vpc_id in target "
                               f"{self._target.name!r} (it bounds what is touched): add it to the target file")
        return vpc

    # -- discovery (reads only) ----------------------------------------------------------------------
    def subnets(self, region: str, az: str) -> list[str]:
        configured = self._aws.region(region).subnets.get(az)
        if configured:
            return list(configured)
        found = _pages(self._rec, self._ec2(region), "describe_subnets", "Subnets", Filters=[
            {"Name": "vpc-id", "Values": [self._vpc(region)]}, {"Name": "availability-zone", "Values": [az]}])
        return sorted(s["SubnetId"] for s in found)

    def associations(self, region: str, subnets: list[str]) -> dict[str, tuple[str, str, dict[str, str]]]:
        """Subnet -> (association id, network ACL id, that ACL's tags)."""
        acls = _pages(self._rec, self._ec2(region), "describe_network_acls", "NetworkAcls",
                      Filters=[{"Name": "vpc-id", "Values": [self._vpc(region)]}])
        found: dict[str, tuple[str, str, dict[str, str]]] = {}
        for acl in acls:
            tags = {t["Key"]: t["Value"] for t in acl.get("Tags", [])}
            for assoc in acl.get("Associations", []):
                if assoc["SubnetId"] in subnets:
                    found[assoc["SubnetId"]] = (assoc["NetworkAclAssociationId"], acl["NetworkAclId"], tags)
        missing = sorted(set(subnets) - set(found))
        if missing:
            raise FaultRefused(f"subnets {', '.join(missing)} have no network ACL association in "
                               f"{self._vpc(region)}: check aws.regions[name={region}].subnets")
        return found

    def down_azs(self, region: str) -> list[str]:
        """AZs of ``region`` currently blackholed by us (from the tags, so any process sees them)."""
        vpc = self._aws.region(region).vpc_id
        if not vpc:
            return []
        acls = _pages(self._rec, self._ec2(region), "describe_network_acls", "NetworkAcls", Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": f"tag:{FAULT_TAG}", "Values": ["az-outage"]}])
        return sorted({t["Value"] for a in acls for t in a.get("Tags", []) if t["Key"] == AZ_TAG
                       and a.get("Associations")})

    def _instances(self, region: str, az: str) -> list[str]:
        reservations = _pages(self._rec, self._ec2(region), "describe_instances", "Reservations", Filters=[
            {"Name": "vpc-id", "Values": [self._vpc(region)]}, {"Name": "availability-zone", "Values": [az]},
            {"Name": "instance-state-name", "Values": ["running", "pending"]}])
        return sorted(i["InstanceId"] for r in reservations for i in r["Instances"])

    def _groups(self, region: str, az: str) -> dict[str, list[str]]:
        """ASG -> processes suspended already, for the VPC's groups that span ``az``."""
        names = list(self._aws.region(region).asg_names)
        groups = _pages(self._rec, self._asg(region), "describe_auto_scaling_groups", "AutoScalingGroups",
                        **({"AutoScalingGroupNames": names} if names else {}))
        vpc_subnets = {s["SubnetId"] for s in _pages(self._rec, self._ec2(region), "describe_subnets", "Subnets",
                                                     Filters=[{"Name": "vpc-id", "Values": [self._vpc(region)]}])}
        found = {}
        for g in groups:
            subnets = {s for s in g.get("VPCZoneIdentifier", "").split(",") if s}
            if az in g.get("AvailabilityZones", []) and (names or subnets & vpc_subnets):
                found[g["AutoScalingGroupName"]] = [p["ProcessName"] for p in g.get("SuspendedProcesses", [])]
        return found

    def _contexts(self, region: str) -> list[str | None]:
        contexts = {w.context for w in pods.workloads(self._target, region)}
        own = self._aws.region(region).kube_context
        if own is not None or not contexts:
            contexts.add(own)
        return sorted(contexts, key=str)

    # -- the fault -----------------------------------------------------------------------------------
    def inject(self, region: str, az: str, inflight: InFlight) -> FaultOutcome:
        if self._aws.az_outage == "fis":
            return self._inject_fis(region, az, inflight)
        subnets = self.subnets(region, az)
        if not subnets:
            raise FaultRefused(f"no subnets of {self._vpc(region)} in {az}: check aws.regions[name={region}]")
        current = self.associations(region, subnets)
        if any(tags.get(FAULT_TAG) for _, _, tags in current.values()):
            raise FaultRefused(f"AZ {az} is already down (its subnets use an aftershock blackhole ACL): "
                               "restore it first (`aftershock recover RUN_FOLDER`)")
        groups = self._groups(region, az)
        instances = self._instances(region, az)
        zone_nodes = [(c, n.metadata.name) for c in self._contexts(region)
                      for n in pods.zone_nodes(self._kube, self._rec, region, c, az) if not n.spec.unschedulable]
        restore = AzRestore(az)
        details: dict[str, Any] = {"region": region, "subnets": subnets}

        ec2 = self._ec2(region)
        tags = [{"Key": FAULT_TAG, "Value": "az-outage"}, {"Key": AZ_TAG, "Value": az},
                {"Key": "Name", "Value": f"aftershock-blackhole-{az}"}]
        tags += [{"Key": ORIG_TAG + s, "Value": acl} for s, (_, acl, _) in current.items()]
        created = self._rec.write(ec2, "create_network_acl", VpcId=self._vpc(region), dry_result={
            "NetworkAcl": {"NetworkAclId": "acl-dry-run"}},
            TagSpecifications=[{"ResourceType": "network-acl", "Tags": tags}])
        restore.blackhole_nacl = created["NetworkAcl"]["NetworkAclId"]
        for subnet, (assoc, acl, _) in sorted(current.items()):
            restore.nacls[subnet] = acl
            inflight.set(restore.call())
            self._rec.write(ec2, "replace_network_acl_association", AssociationId=assoc,
                            NetworkAclId=restore.blackhole_nacl)
        details["blackhole_nacl"] = restore.blackhole_nacl

        killed: list[str] = []
        for context, node in zone_nodes:
            restore.nodes.append({"context": context, "node": node})
            inflight.set(restore.call())
            pods.set_unschedulable(self._kube, self._rec, region, context, node, True)
        names = {n for _, n in zone_nodes}
        for w in pods.workloads(self._target, region):
            for pod in pods.live_pods(self._kube, self._rec, w):
                if pod.spec.node_name in names:
                    pods.delete_pod(self._kube, self._rec, region, w.context, w.namespace, pod.metadata.name)
                    killed.append(f"{w.namespace}/{pod.metadata.name}")
        details["cordoned"] = sorted(names)
        details["pods_deleted"] = sorted(killed)

        for name, already in sorted(groups.items()):
            wanted = [p for p in self._aws.asg_suspend_processes if p not in already]
            if not wanted:
                continue
            restore.asgs[name] = wanted
            inflight.set(restore.call())
            self._rec.write(self._asg(region), "suspend_processes", AutoScalingGroupName=name,
                            ScalingProcesses=wanted)
        if instances:
            restore.instances = instances
            inflight.set(restore.call())
            self._rec.write(ec2, "stop_instances", InstanceIds=instances)
        details.update(asgs_suspended=restore.asgs, instances_stopped=instances)

        aurora = self._aurora()
        if aurora is not None and aurora.writer_region() == region:
            writer = aurora.writer()
            if writer.az == az:
                _, new = aurora.failover_in_region(away_from_az=az)
                details["writer_failover"] = {"from": writer.instance, "to": new}
        inflight.set(restore.call())
        return FaultOutcome(f"AZ {az} ({region}) down: {len(subnets)} subnet(s) blackholed, {len(names)} node(s) "
                            f"cordoned, {len(instances)} instance(s) stopped", details, (restore.call(),))

    def _inject_fis(self, region: str, az: str, inflight: InFlight) -> FaultOutcome:
        template = self._aws.region(region).fis_templates.get(az)
        if not template:
            raise FaultRefused(f"aws.az_outage is fis but aws.regions[name={region}].fis_templates has no template "
                               f"for {az}: add the id of its 'AZ Availability: Power Interruption' template")
        started = self._rec.write(self._sessions.client("fis", region), "start_experiment",
                                  clientToken=uuid.uuid4().hex, experimentTemplateId=template,
                                  tags={FAULT_TAG: "az-outage", AZ_TAG: az},
                                  dry_result={"experiment": {"id": "EXPdryrun"}})
        restore = AzRestore(az, fis_experiment=started["experiment"]["id"])
        inflight.set(restore.call())
        return FaultOutcome(f"AZ {az} ({region}) down: FIS experiment {restore.fis_experiment} from template "
                            f"{template}", {"region": region, "fis_experiment": restore.fis_experiment},
                            (restore.call(),))

    # -- the restore ---------------------------------------------------------------------------------
    def restore(self, region: str, r: AzRestore) -> list[str]:
        """Undo what ``r`` lists (idempotent); with nothing listed, find our blackhole ACLs by their tags."""
        done: list[str] = []
        if r.fis_experiment:
            fis = self._sessions.client("fis", region)
            state = self._rec.read(fis, "get_experiment", id=r.fis_experiment)["experiment"]["state"]["status"]
            if state in ("pending", "initiating", "running"):
                self._rec.write(fis, "stop_experiment", id=r.fis_experiment)
            done.append(f"FIS experiment {r.fis_experiment} stopped")
        if not r.nacls and r.blackhole_nacl is None and not r.fis_experiment:
            self._from_tags(region, r)
        done += self._restore_network(region, r)
        if r.instances:
            self._start(region, r.instances)
            done.append(f"started {len(r.instances)} instance(s)")
        for name, processes in sorted(r.asgs.items()):
            self._rec.write(self._asg(region), "resume_processes", AutoScalingGroupName=name,
                            ScalingProcesses=processes)
        if r.asgs:
            done.append(f"resumed processes of {', '.join(sorted(r.asgs))}")
        for n in r.nodes:
            pods.set_unschedulable(self._kube, self._rec, region, n["context"], str(n["node"]), False)
        if r.nodes:
            done.append(f"uncordoned {len(r.nodes)} node(s)")
        return done

    def _from_tags(self, region: str, r: AzRestore) -> None:
        vpc = self._vpc(region)
        acls = _pages(self._rec, self._ec2(region), "describe_network_acls", "NetworkAcls", Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": f"tag:{AZ_TAG}", "Values": [r.az]}])
        for acl in acls:
            tags = {t["Key"]: t["Value"] for t in acl.get("Tags", [])}
            if tags.get(FAULT_TAG) != "az-outage":
                continue
            r.blackhole_nacl = acl["NetworkAclId"]
            r.nacls.update({k[len(ORIG_TAG):]: v for k, v in tags.items() if k.startswith(ORIG_TAG)})
        if r.blackhole_nacl is None:
            raise FaultRefused(f"AZ {r.az} is not down (no aftershock blackhole ACL in {vpc}): nothing to restore")

    def _restore_network(self, region: str, r: AzRestore) -> list[str]:
        ec2 = self._ec2(region)
        if r.nacls:
            current = self.associations(region, sorted(r.nacls))
            for subnet, original in sorted(r.nacls.items()):
                assoc, acl, _ = current[subnet]
                if acl != original:
                    self._rec.write(ec2, "replace_network_acl_association", AssociationId=assoc,
                                    NetworkAclId=original)
        if r.blackhole_nacl:
            acls = _pages(self._rec, ec2, "describe_network_acls", "NetworkAcls",
                          Filters=[{"Name": "vpc-id", "Values": [self._vpc(region)]}])
            exists = [a for a in acls if a["NetworkAclId"] == r.blackhole_nacl]
            if exists and not exists[0].get("Associations"):
                self._rec.write(ec2, "delete_network_acl", NetworkAclId=r.blackhole_nacl)
        return [f"{len(r.nacls)} subnet(s) back on their network ACLs"] if r.nacls else []

    def _start(self, region: str, instances: list[str]) -> None:
        ec2 = self._ec2(region)
        deadline = time.monotonic() + self._timeout_s
        while True:
            reservations = _pages(self._rec, ec2, "describe_instances", "Reservations", InstanceIds=instances)
            states = {i["InstanceId"]: i["State"]["Name"] for res in reservations for i in res["Instances"]}
            if self._rec.dry_run or not any(s == "stopping" for s in states.values()):
                break
            if time.monotonic() > deadline:
                raise HarnessError(f"instances {sorted(states)} still stopping after {self._timeout_s:.0f} s: "
                                   "start them by hand, then rerun `aftershock recover`")
            time.sleep(self._poll_s)
        to_start = sorted(i for i, s in states.items() if s == "stopped")
        if to_start:
            self._rec.write(ec2, "start_instances", InstanceIds=to_start)
