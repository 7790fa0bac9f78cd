"""The network half of an AZ outage: the VPC's subnets in an AZ, their network ACL associations, and the
aftershock blackhole ACLs found by their tags (``aftershock:fault=az-outage``, ``aftershock:az=AZ`` and
``aftershock:orig:SUBNET=ACL`` per subnet), so any process (``aftershock recover``) can see and undo them.
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.session import AwsSessions

FAULT_TAG = "aftershock:fault"
AZ_TAG = "aftershock:az"
ORIG_TAG = "aftershock:orig:"

Association = tuple[str, str, dict[str, str]]  # (association id, network ACL id, that ACL's tags)


def pages(rec: CallRecorder, client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    """Every item of a paginated read (``NextToken``)."""
    items: list[Any] = []
    token: str | None = None
    while True:
        page = rec.read(client, operation, **params, **({"NextToken": token} if token else {}))
        items += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return items


class Vpc:
    """Reads of one target's VPCs (one per region)."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        assert target.aws is not None
        self._target = target
        self._aws = target.aws
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        return f"Vpc(target={self._target.name!r})"

    def ec2(self, region: str) -> Any:
        return self._sessions.client("ec2", region)

    def vpc(self, region: str) -> str:
        vpc = self._aws.region(region).vpc_id
        if not vpc:
            raise FaultRefused(f"az_outage on AWS needs aws.regions[name={region}].vpc_id in target "
                               f"{self._target.name!r} (it bounds what is touched): add it to the target file")
        return vpc

    def az_subnets(self, region: str, az: str) -> list[str]:
        """Every subnet of the region's VPC in ``az``."""
        found = pages(self._rec, self.ec2(region), "describe_subnets", "Subnets", Filters=[
            {"Name": "vpc-id", "Values": [self.vpc(region)]}, {"Name": "availability-zone", "Values": [az]}])
        return sorted(s["SubnetId"] for s in found)

    def subnets(self, region: str, az: str) -> list[str]:
        """The subnets an outage of ``az`` touches: ``aws.regions[].subnets[az]``, else all of the AZ's."""
        configured = self._aws.region(region).subnets.get(az)
        return list(configured) if configured else self.az_subnets(region, az)

    def associations(self, region: str, subnets: list[str]) -> dict[str, Association]:
        """Subnet -> (association id, network ACL id, that ACL's tags)."""
        acls = pages(self._rec, self.ec2(region), "describe_network_acls", "NetworkAcls",
                     Filters=[{"Name": "vpc-id", "Values": [self.vpc(region)]}])
        found: dict[str, Association] = {}
        for acl in acls:
            tags = {t["Key"]: t["Value"] for t in acl.get("Tags", [])}
            for assoc in acl.get("Associations", []):
                if assoc["SubnetId"] in subnets:
                    found[assoc["SubnetId"]] = (assoc["NetworkAclAssociationId"], acl["NetworkAclId"], tags)
        missing = sorted(set(subnets) - set(found))
        if missing:
            raise FaultRefused(f"subnets {', '.join(missing)} have no network ACL association in "
                               f"{self.vpc(region)}: check aws.regions[name={region}].subnets")
        return found

    def down_azs(self, region: str) -> list[str]:
        """AZs of ``region`` currently blackholed by us (from the tags, so any process sees them)."""
        vpc = self._aws.region(region).vpc_id
        if not vpc:
            return []
        acls = pages(self._rec, self.ec2(region), "describe_network_acls", "NetworkAcls", Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": f"tag:{FAULT_TAG}", "Values": ["az-outage"]}])
        return sorted({t["Value"] for a in acls for t in a.get("Tags", []) if t["Key"] == AZ_TAG
                       and a.get("Associations")})

    def blackholes(self, region: str, az: str) -> list[tuple[str, dict[str, str], bool]]:
        """Our blackhole ACLs of ``az``: (ACL id, subnet -> original ACL, still associated)."""
        acls = pages(self._rec, self.ec2(region), "describe_network_acls", "NetworkAcls", Filters=[
            {"Name": "vpc-id", "Values": [self.vpc(region)]}, {"Name": f"tag:{AZ_TAG}", "Values": [az]}])
        found = []
        for acl in acls:
            tags = {t["Key"]: t["Value"] for t in acl.get("Tags", [])}
            if tags.get(FAULT_TAG) == "az-outage":
                found.append((str(acl["NetworkAclId"]), {k[len(ORIG_TAG):]: v for k, v in tags.items()
                                                         if k.startswith(ORIG_TAG)}, bool(acl.get("Associations"))))
        return found
