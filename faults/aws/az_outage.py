"""AZ outage on AWS, and its exact restore (:mod:`aftershock.faults.aws.az_restore`).

Direct mode (``aws.az_outage.mode: direct``, the default), inside the region's ``aws.regions[].vpc_id`` only:

1. network: a new network ACL with no rules (deny-all both ways), tagged ``aftershock:fault=az-outage``,
   ``aftershock:az=AZ`` and ``aftershock:orig:SUBNET=ACL`` per subnet, replaces the association of each of the
   AZ's subnets (``aws.regions[].subnets[AZ]`` when set); restore puts every subnet back on its original ACL and
   deletes the blackhole ACL;
2. Kubernetes: the nodes labelled ``topology.kubernetes.io/zone=AZ`` are cordoned (those already cordoned are
   left alone) and the target's pods on them deleted; restore uncordons exactly the nodes it cordoned;
3. auto scaling: each ASG in scope (``aws.regions[].asg_names``, else the VPC's groups with a subnet there)
   loses the AZ: its subnets in the AZ are removed from its ``VPCZoneIdentifier`` (what FIS's
   insufficient-capacity error does for launches), so its healthy AZs keep healing and scaling; restore sets the
   exact original ``VPCZoneIdentifier`` back. ``aws.asg_suspend_processes`` (none by default) are suspended too;
4. EC2: the running instances of the AZ that are in the selected subnets, in the ASGs in ``asg_names`` (when
   set) and carry every tag of ``aws.az_outage.tags`` are stopped; Spot instances are left alone (noted);
   restore starts exactly those (see :class:`~aftershock.faults.aws.az_restore.AzRestorer`);
5. Aurora: if the writer is in the AZ, it fails over to a reader in another AZ (not reverted: it stays there).

Every step is recorded in flight *before* it is made (the blackhole ACL before it is created, with a
``ClientToken``), so a crash at any point leaves everything for ``aftershock recover``. In a dry run the notes list
exactly what will be touched and what is left alone.

FIS mode (``aws.az_outage.mode: fis``): starts the FIS experiment template ``aws.regions[].fis_templates[AZ]``
("AZ Availability: Power Interruption"), checks it did not fail straight away; restore stops the experiment (FIS
then restores what it did).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.target import Target
from aftershock.faults.aws import pods
from aftershock.faults.aws.aurora import Aurora
from aftershock.faults.aws.az_restore import FIS_ACTIVE, AzRestore, AzRestorer
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.network import AZ_TAG, FAULT_TAG, ORIG_TAG, Association, Vpc, pages
from aftershock.faults.aws.retry import EVENTUAL, retried
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome

__all__ = ["AzOutage", "AzRestore"]

ASG_TAG = "aws:autoscaling:groupName"
# FIS's "AZ Availability: Power Interruption" scenario stops ASG launches into the AZ with this action
ASG_CAPACITY_ACTION = "aws:ec2:asg-insufficient-instance-capacity-error"
# ASG -> (its VPCZoneIdentifier, its subnets outside the AZ, processes suspended already)
Groups = dict[str, tuple[str, list[str], list[str]]]


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
        self.vpc = Vpc(target, sessions, rec)
        self.restorer = AzRestorer(sessions, rec, kube, self.vpc, poll_s=poll_s, timeout_s=timeout_s)

    def __repr__(self) -> str:
        return f"AzOutage(target={self._target.name!r}, mode={self._aws.az_outage.mode!r})"

    def _asg(self, region: str) -> Any:
        return self._sessions.client("autoscaling", region)

    def down_azs(self, region: str) -> list[str]:
        """AZs of ``region`` down by our hand: blackholed by an ACL of ours, or under a FIS experiment of ours
        (tagged ``aftershock:fault=az-outage``) that is still pending, initiating or running."""
        return sorted(set(self.vpc.down_azs(region)) | set(self.fis_down_azs(region)))

    def fis_down_azs(self, region: str) -> list[str]:
        """AZs of ``region`` under a running FIS experiment of ours (templates of ``aws.regions[].fis_templates``)."""
        templates = sorted(set(self._aws.region(region).fis_templates.values()))
        if not templates:
            return []
        fis = self._sessions.client("fis", region)
        down: set[str] = set()
        for template in templates:
            token: str | None = None
            while True:
                page = self._rec.read(fis, "list_experiments", experimentTemplateId=template, maxResults=100,
                                      **({"nextToken": token} if token else {}))
                for e in page.get("experiments", []):
                    tags = e.get("tags") or {}
                    if tags.get(FAULT_TAG) == "az-outage" and tags.get(AZ_TAG) and \
                            e.get("state", {}).get("status") in FIS_ACTIVE:
                        down.add(str(tags[AZ_TAG]))
                token = page.get("nextToken")
                if not token:
                    break
        return sorted(down)

    def restore(self, region: str, r: AzRestore) -> list[str]:
        return self.restorer.restore(region, r)

    # -- what is touched (reads only) ----------------------------------------------------------------
    def _instances(self, region: str, az: str, subnets: list[str]) -> tuple[list[str], list[str]]:
        """(instances to stop, Spot instances left alone) of ``az``: running, in ``subnets``, in ``asg_names``
        when set, carrying every tag of ``aws.az_outage.tags``."""
        filters = [{"Name": "vpc-id", "Values": [self.vpc.vpc(region)]},
                   {"Name": "availability-zone", "Values": [az]}, {"Name": "subnet-id", "Values": subnets},
                   {"Name": "instance-state-name", "Values": ["running", "pending"]}]
        names = list(self._aws.region(region).asg_names)
        if names:
            filters.append({"Name": f"tag:{ASG_TAG}", "Values": names})
        filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted(self._aws.az_outage.tags.items())]
        found = [i for r in pages(self._rec, self.vpc.ec2(region), "describe_instances", "Reservations",
                                  Filters=filters) for i in r["Instances"]]
        spot = sorted(i["InstanceId"] for i in found if i.get("InstanceLifecycle") == "spot")
        return sorted(i["InstanceId"] for i in found if i["InstanceId"] not in spot), spot

    def _groups(self, region: str, az: str, subnets: list[str]) -> Groups:
        """The ASGs that lose the AZ: ``asg_names`` (else the VPC's groups in ``subnets``) with a subnet in it."""
        names = list(self._aws.region(region).asg_names)
        groups = pages(self._rec, self._asg(region), "describe_auto_scaling_groups", "AutoScalingGroups",
                       **({"AutoScalingGroupNames": names} if names else {}))
        in_az = set(self.vpc.az_subnets(region, az)) | set(subnets)
        found: Groups = {}
        for g in groups:
            zone = str(g.get("VPCZoneIdentifier") or "")
            own = [s for s in zone.split(",") if s]
            if not any(s in in_az for s in own) or not (names or set(own) & set(subnets)):
                continue
            keep = [s for s in own if s not in in_az]
            name = g["AutoScalingGroupName"]
            if not keep:
                raise FaultRefused(f"auto scaling group {name} has subnets in {az} only: it cannot lose the AZ and "
                                   f"keep running; give it a subnet in another AZ or leave it out of "
                                   f"aws.regions[name={region}].asg_names")
            found[name] = (zone, keep, [p["ProcessName"] for p in g.get("SuspendedProcesses", [])])
        return found

    def _contexts(self, region: str) -> list[str | None]:
        contexts = {w.context for w in pods.workloads(self._target, region)}
        own = self._aws.region(region).kube_context
        if own is not None or not contexts:
            contexts.add(own)
        return sorted(contexts, key=str)

    # -- the fault -----------------------------------------------------------------------------------
    def inject(self, region: str, az: str, inflight: InFlight) -> FaultOutcome:
        if self._aws.az_outage.mode == "fis":
            return self._inject_fis(region, az, inflight)
        subnets = self.vpc.subnets(region, az)
        if not subnets:
            raise FaultRefused(f"no subnets of {self.vpc.vpc(region)} in {az}: check aws.regions[name={region}]")
        current = self.vpc.associations(region, subnets)
        if any(tags.get(FAULT_TAG) for _, _, tags in current.values()):
            raise FaultRefused(f"AZ {az} is already down (its subnets use an aftershock blackhole ACL): "
                               "restore it first (`aftershock recover RUN_FOLDER`)")
        groups = self._groups(region, az, subnets)
        instances, spot = self._instances(region, az, subnets)
        zone_nodes = [(c, n.metadata.name) for c in self._contexts(region)
                      for n in pods.zone_nodes(self._kube, self._rec, region, c, az) if not n.spec.unschedulable]
        self._note_blast_radius(az, subnets, groups, instances, spot, zone_nodes)
        restore = AzRestore(az)
        details: dict[str, Any] = {"region": region, "subnets": subnets}
        details["blackhole_nacl"] = self._blackhole(region, az, current, restore, inflight)
        names, killed = self._cordon_and_evict(region, zone_nodes, restore, inflight)
        details.update(cordoned=sorted(names), pods_deleted=sorted(killed))
        self._asgs_lose_az(region, groups, restore, inflight)
        self._stop(region, instances, restore, inflight)
        details.update(asg_subnets={n: keep for n, (_, keep, _) in groups.items()}, asgs_suspended=restore.asgs,
                       instances_stopped=instances, spot_left_alone=spot)
        failover = self._fail_over_writer(region, az)
        if failover is not None:
            details["writer_failover"] = failover
        inflight.set(restore.call())
        return FaultOutcome(f"AZ {az} ({region}) down: {len(subnets)} subnet(s) blackholed, {len(names)} node(s) "
                            f"cordoned, {len(groups)} ASG(s) without the AZ, {len(instances)} instance(s) stopped",
                            details, (restore.call(),))

    def _note_blast_radius(self, az: str, subnets: list[str], groups: Groups, instances: list[str],
                           spot: list[str], zone_nodes: list[tuple[str | None, str]]) -> None:
        self._rec.note(f"touches subnets {', '.join(subnets)} (network ACL blackhole)")
        for name, (_, keep, _) in sorted(groups.items()):
            self._rec.note(f"touches ASG {name}: loses {az}, keeps subnets {', '.join(keep)}")
        self._rec.note(f"touches instances {', '.join(instances) or '(none)'} (stopped)")
        if spot:
            self._rec.note(f"leaves alone Spot instances {', '.join(spot)} (EC2 cannot stop them reliably)")
        self._rec.note(f"touches nodes {', '.join(n for _, n in zone_nodes) or '(none)'} (cordoned)")

    def _blackhole(self, region: str, az: str, current: dict[str, Association], restore: AzRestore,
                   inflight: InFlight) -> str:
        """Step 1: a deny-all ACL, tagged with each subnet's original ACL, replaces the AZ's associations. It is
        in flight before it exists (found by its tags) and created with a ``ClientToken`` (a retry reuses it)."""
        ec2 = self.vpc.ec2(region)
        tags = [{"Key": FAULT_TAG, "Value": "az-outage"}, {"Key": AZ_TAG, "Value": az},
                {"Key": "Name", "Value": f"aftershock-blackhole-{az}"}]
        tags += [{"Key": ORIG_TAG + s, "Value": acl} for s, (_, acl, _) in current.items()]
        inflight.set(restore.call())  # nothing listed yet: a restore finds the ACL by its tags
        created = self._rec.write(ec2, "create_network_acl", VpcId=self.vpc.vpc(region), dry_result={
            "NetworkAcl": {"NetworkAclId": "acl-dry-run"}}, ClientToken=uuid.uuid4().hex,
            TagSpecifications=[{"ResourceType": "network-acl", "Tags": tags}])
        restore.blackhole_nacl = created["NetworkAcl"]["NetworkAclId"]
        for subnet, (assoc, acl, _) in sorted(current.items()):
            restore.nacls[subnet] = acl
            inflight.set(restore.call())
            retried(functools.partial(self._rec.write, ec2, "replace_network_acl_association", AssociationId=assoc,
                                      NetworkAclId=restore.blackhole_nacl), codes=EVENTUAL, base_s=self._poll_s)
        return restore.blackhole_nacl

    def _cordon_and_evict(self, region: str, zone_nodes: list[tuple[str | None, str]], restore: AzRestore,
                          inflight: InFlight) -> tuple[set[str], list[str]]:
        """Step 2: cordon the AZ's nodes, then delete the target's pods on them; (node names, pods deleted)."""
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
        return names, killed

    def _asgs_lose_az(self, region: str, groups: Groups, restore: AzRestore, inflight: InFlight) -> None:
        """Step 3: each ASG loses the AZ's subnets (its other AZs keep every process), optional suspensions."""
        for name, (zone, keep, already) in sorted(groups.items()):
            restore.asg_subnets[name] = zone
            inflight.set(restore.call())
            self._rec.write(self._asg(region), "update_auto_scaling_group", AutoScalingGroupName=name,
                            VPCZoneIdentifier=",".join(keep))
            wanted = [p for p in self._aws.asg_suspend_processes if p not in already]
            if wanted:
                restore.asgs[name] = wanted
                inflight.set(restore.call())
                self._rec.write(self._asg(region), "suspend_processes", AutoScalingGroupName=name,
                                ScalingProcesses=wanted)

    def _stop(self, region: str, instances: list[str], restore: AzRestore, inflight: InFlight) -> None:
        """Step 4: stop the selected instances of the AZ."""
        if instances:
            restore.instances = instances
            inflight.set(restore.call())
            self._rec.write(self.vpc.ec2(region), "stop_instances", InstanceIds=instances)

    def _fail_over_writer(self, region: str, az: str) -> dict[str, str | None] | None:
        """Step 5: the Aurora writer fails over to another AZ when it is in ``az`` (``{"from", "to"}``)."""
        aurora = self._aurora()
        if aurora is not None and aurora.writer_region() == region:
            writer = aurora.writer()
            if writer.az == az:
                _, new = aurora.failover_in_region(away_from_az=az)
                return {"from": writer.instance, "to": new}
        return None

    def _inject_fis(self, region: str, az: str, inflight: InFlight) -> FaultOutcome:
        template = self._aws.region(region).fis_templates.get(az)
        if not template:
            raise FaultRefused(f"aws.az_outage is fis but aws.regions[name={region}].fis_templates has no template "
                               f"for {az}: add the id of its 'AZ Availability: Power Interruption' template")
        fis = self._sessions.client("fis", region)
        gaps = self._fis_gaps(fis, template)
        restore = AzRestore(az, fis_template=template)
        inflight.set(restore.call())  # before it starts: a restore finds it by its tags
        started = self._rec.write(fis, "start_experiment", clientToken=uuid.uuid4().hex,
                                  experimentTemplateId=template, tags={FAULT_TAG: "az-outage", AZ_TAG: az},
                                  dry_result={"experiment": {"id": "EXPdryrun"}})
        restore.fis_experiment = started["experiment"]["id"]
        inflight.set(restore.call())
        if not self._rec.dry_run:
            state = self._rec.read(fis, "get_experiment", id=restore.fis_experiment)["experiment"]["state"]
            if state.get("status") in ("failed", "stopped", "cancelled"):
                raise HarnessError(f"FIS experiment {restore.fis_experiment} from template {template} is "
                                   f"{state['status']} right after its start ({state.get('reason', 'no reason')}): "
                                   "fix the template (its role, targets, stop conditions), then retry")
        caveat = f" (weaker than an AZ loss: {'; '.join(gaps)})" if gaps else ""
        return FaultOutcome(f"AZ {az} ({region}) down: FIS experiment {restore.fis_experiment} from template "
                            f"{template}{caveat}", {"region": region, "fis_experiment": restore.fis_experiment,
                                                   "fis_gaps": gaps}, (restore.call(),))

    def _fis_gaps(self, fis: Any, template: str) -> list[str]:
        """What the template leaves out of an AZ loss: without the capacity error, the target's ASGs launch
        replacements into the lost AZ and the RTO measured describes a kinder outage than AWS's."""
        actions = self._rec.read(fis, "get_experiment_template", id=template)["experimentTemplate"]["actions"]
        if ASG_CAPACITY_ACTION not in {a.get("actionId") for a in actions.values()}:
            return [f"template {template} has no {ASG_CAPACITY_ACTION} action, so ASGs may launch into the AZ"]
        return []
