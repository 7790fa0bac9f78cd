"""The exact restore of an AZ outage: every step runs, each failure is reported.

A revert that stops at its first failure leaves the rest broken (ASG without its AZ, nodes cordoned) on every
retry. :class:`AzRestorer` runs every step whatever happened before, then raises one
:class:`~aftershock.core.errors.HarnessError` naming each failed step; the fault stays outstanding, and since
every step is idempotent ``aftershock recover`` can simply run it again.

- an instance that is gone (terminated, or not found) is a success: there is nothing to start;
- a start that fails for lack of capacity is retried with backoff (:mod:`aftershock.faults.aws.retry`), then
  reported;
- a node that is gone is a success too; EC2's eventual consistency is retried the same way.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from aftershock.core.errors import AftershockError, FaultRefused, HarnessError
from aftershock.faults.aws import pods
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.network import AZ_TAG, FAULT_TAG, Vpc, pages
from aftershock.faults.aws.retry import CAPACITY, EVENTUAL, error_code, retried
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import RevertCall

FIS_ACTIVE = ("pending", "initiating", "running")


@dataclass
class AzRestore:
    """Everything ``az_restore`` needs to undo one AZ outage (JSON-able, kept in the fault journal)."""

    az: str
    nacls: dict[str, str] = field(default_factory=dict)
    blackhole_nacl: str | None = None
    nodes: list[dict[str, str | None]] = field(default_factory=list)
    asgs: dict[str, list[str]] = field(default_factory=dict)        # ASG -> processes we suspended
    asg_subnets: dict[str, str] = field(default_factory=dict)       # ASG -> its VPCZoneIdentifier before
    instances: list[str] = field(default_factory=list)
    fis_experiment: str | None = None
    fis_template: str | None = None   # an experiment of this template being started: found by its tags

    def call(self) -> RevertCall:
        return RevertCall("az_restore", {"az": self.az, "nacls": dict(self.nacls),
                                         "blackhole_nacl": self.blackhole_nacl,
                                         "nodes": [dict(n) for n in self.nodes],
                                         "asgs": {k: list(v) for k, v in self.asgs.items()},
                                         "asg_subnets": dict(self.asg_subnets),
                                         "instances": list(self.instances), "fis_experiment": self.fis_experiment,
                                         "fis_template": self.fis_template})


class Steps:
    """Runs each step of a restore, goes on after a failure, and reports every failure at the end."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.failures: list[str] = []

    def __repr__(self) -> str:
        return f"Steps(done={len(self.done)}, failures={len(self.failures)})"

    def run(self, what: str, step: Callable[[], str | None]) -> None:
        try:
            line = step()
        except Exception as exc:  # reported below, with every other failure
            kind = "" if error_code(exc) or isinstance(exc, AftershockError) else f"{type(exc).__name__}: "
            self.failures.append(f"{what}: {kind}{exc}")
        else:
            if line:
                self.done.append(line)

    def raise_failures(self, where: str) -> None:
        if self.failures:
            raise HarnessError(f"{where} restore: {len(self.failures)} step(s) failed, every other step was done: "
                               f"{'; '.join(self.failures)}; fix them, then rerun `aftershock recover RUN_FOLDER`")


class AzRestorer:
    """Undoes what an :class:`AzRestore` lists (idempotent)."""

    def __init__(self, sessions: AwsSessions, rec: CallRecorder, kube: pods.KubeClients, vpc: Vpc, *,
                 poll_s: float, timeout_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sessions = sessions
        self._rec = rec
        self._kube = kube
        self._vpc = vpc
        self._poll_s = poll_s
        self._timeout_s = timeout_s
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AzRestorer(poll_s={self._poll_s}, timeout_s={self._timeout_s})"

    def restore(self, region: str, r: AzRestore) -> list[str]:
        """Undo what ``r`` lists; with nothing listed, find our blackhole ACLs by their tags."""
        steps = Steps()
        if r.fis_experiment or r.fis_template:
            steps.run("FIS experiment", functools.partial(self._stop_fis, region, r))
        elif not r.nacls and r.blackhole_nacl is None:
            self._from_tags(region, r)
        for subnet, original in sorted(r.nacls.items()):
            steps.run(f"subnet {subnet}", functools.partial(self._reassociate, region, subnet, original))
        if r.nacls:
            steps.done.append(f"{len(r.nacls)} subnet(s) back on their network ACLs")
        if r.blackhole_nacl:
            steps.run(f"network ACL {r.blackhole_nacl}",
                      functools.partial(self._delete_blackhole, region, r.blackhole_nacl))
        for instance in r.instances:
            steps.run(f"instance {instance}", functools.partial(self._start, region, instance))
        for name, zone in sorted(r.asg_subnets.items()):
            steps.run(f"ASG {name}", functools.partial(self._asg_subnets, region, name, zone))
        for name, processes in sorted(r.asgs.items()):
            steps.run(f"ASG {name}", functools.partial(self._resume, region, name, processes))
        for node in r.nodes:
            steps.run(f"node {node['node']}", functools.partial(self._uncordon, region, node))
        steps.raise_failures(f"AZ {r.az} ({region})")
        return steps.done

    # -- the steps -----------------------------------------------------------------------------------
    def _stop_fis(self, region: str, r: AzRestore) -> str:
        fis = self._sessions.client("fis", region)
        ids = [r.fis_experiment] if r.fis_experiment else self._fis_by_tags(fis, r)
        for experiment in ids:
            state = self._rec.read(fis, "get_experiment", id=experiment)["experiment"]["state"]["status"]
            if state in FIS_ACTIVE:
                self._rec.write(fis, "stop_experiment", id=experiment)
        return "; ".join(f"FIS experiment {e} stopped" for e in ids) or "no FIS experiment was running"

    def _fis_by_tags(self, fis: Any, r: AzRestore) -> list[str]:
        found = self._rec.read(fis, "list_experiments", experimentTemplateId=str(r.fis_template)).get(
            "experiments", [])
        return sorted(e["id"] for e in found if (e.get("tags") or {}).get(AZ_TAG) == r.az
                      and (e.get("tags") or {}).get(FAULT_TAG) == "az-outage"
                      and e.get("state", {}).get("status") in FIS_ACTIVE)

    def _from_tags(self, region: str, r: AzRestore) -> None:
        for acl, originals, _ in self._vpc.blackholes(region, r.az):
            r.blackhole_nacl = acl
            r.nacls.update(originals)
        if r.blackhole_nacl is None:
            raise FaultRefused(f"AZ {r.az} is not down (no aftershock blackhole ACL in {self._vpc.vpc(region)}): "
                               "nothing to restore")

    def _reassociate(self, region: str, subnet: str, original: str) -> None:
        assoc, acl, _ = self._vpc.associations(region, [subnet])[subnet]
        if acl != original:
            ec2 = self._vpc.ec2(region)
            retried(lambda: self._rec.write(ec2, "replace_network_acl_association", AssociationId=assoc,
                                            NetworkAclId=original), codes=EVENTUAL, base_s=self._poll_s,
                    sleep=self._sleep)

    def _delete_blackhole(self, region: str, acl: str) -> str | None:
        ec2 = self._vpc.ec2(region)
        found = [a for a in pages(self._rec, ec2, "describe_network_acls", "NetworkAcls", Filters=[
            {"Name": "vpc-id", "Values": [self._vpc.vpc(region)]}]) if a["NetworkAclId"] == acl]
        if not found:
            return None
        if found[0].get("Associations"):
            subnets = ", ".join(sorted(a["SubnetId"] for a in found[0]["Associations"]))
            raise HarnessError(f"blackhole ACL {acl} is still associated with {subnets}: not deleted")
        retried(lambda: self._rec.write(ec2, "delete_network_acl", NetworkAclId=acl), codes=EVENTUAL,
                base_s=self._poll_s, sleep=self._sleep)
        return f"blackhole ACL {acl} deleted"

    def _state(self, region: str, instance: str) -> str | None:
        reservations = pages(self._rec, self._vpc.ec2(region), "describe_instances", "Reservations",
                             Filters=[{"Name": "instance-id", "Values": [instance]}])
        states = [i["State"]["Name"] for res in reservations for i in res["Instances"]]
        return str(states[0]) if states else None

    def _start(self, region: str, instance: str) -> str | None:
        deadline = time.monotonic() + self._timeout_s
        state = self._state(region, instance)
        while state == "stopping" and not self._rec.dry_run:
            if time.monotonic() > deadline:
                raise HarnessError(f"instance {instance} still stopping after {self._timeout_s:.0f} s: start it by "
                                   "hand")
            self._sleep(self._poll_s)
            state = self._state(region, instance)
        if state in (None, "terminated", "shutting-down"):
            return f"instance {instance} is gone ({state or 'not found'}): nothing to start"
        if state not in ("stopped", "stopping"):
            return None
        ec2 = self._vpc.ec2(region)
        try:
            retried(lambda: self._rec.write(ec2, "start_instances", InstanceIds=[instance]), codes=CAPACITY,
                    base_s=self._poll_s, sleep=self._sleep)
        except Exception as exc:
            if error_code(exc) == "InvalidInstanceID.NotFound":
                return f"instance {instance} is gone (not found): nothing to start"
            raise
        return f"started {instance}"

    def _asg_subnets(self, region: str, name: str, zone: str) -> str:
        self._rec.write(self._sessions.client("autoscaling", region), "update_auto_scaling_group",
                        AutoScalingGroupName=name, VPCZoneIdentifier=zone)
        return f"ASG {name} back on subnets {zone}"

    def _resume(self, region: str, name: str, processes: list[str]) -> str:
        self._rec.write(self._sessions.client("autoscaling", region), "resume_processes",
                        AutoScalingGroupName=name, ScalingProcesses=processes)
        return f"resumed {', '.join(processes)} of {name}"

    def _uncordon(self, region: str, node: dict[str, str | None]) -> str:
        try:
            pods.set_unschedulable(self._kube, self._rec, region, node["context"], str(node["node"]), False)
        except ApiException as exc:
            if exc.status == 404:
                return f"node {node['node']} is gone: nothing to uncordon"
            raise
        return f"uncordoned {node['node']}"
