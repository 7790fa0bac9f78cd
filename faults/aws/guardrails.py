"""Guardrails: which AWS account and regions a fault may touch, checked before any mutating call.

The account comes from STS ``GetCallerIdentity`` (asked once per driver); it must be one of the target's
``aws.allowed_account_ids``. A region must be one of the target's regions; the Global Accelerator API region
(``aws.ga_region``) is allowed for Global Accelerator calls only (an EC2 call there is refused), and the regions of
the ARC cluster endpoints the target names (``front_door.dns.cluster_endpoints``) for ARC routing-control calls
only. A refusal
raises :class:`~aftershock.core.errors.FaultRefused` naming the culprit and the fix.
"""

from __future__ import annotations

import threading

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.session import AwsSessions

GLOBAL_ACCELERATOR = "globalaccelerator"
ARC_CLUSTER = "route53-recovery-cluster"


class Guardrails:
    """Refuses a fault in the wrong account or region (before anything changed)."""

    def __init__(self, target: Target, sessions: AwsSessions) -> None:
        if target.aws is None:
            raise FaultRefused(f"target {target.name!r} has no aws section: add aws.allowed_account_ids")
        self._target = target
        self._aws = target.aws
        self._sessions = sessions
        self._account: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Guardrails(accounts={list(self._aws.allowed_account_ids)}, regions={self.regions})"

    @property
    def regions(self) -> list[str]:
        return [r.name for r in self._target.regions]

    def _arc_regions(self) -> set[str]:
        dns = self._target.front_door.dns
        return {e.region for e in dns.cluster_endpoints} if dns else set()

    def account(self) -> str:
        """The caller's account id (STS, asked once)."""
        with self._lock:
            if self._account is None:
                sts = self._sessions.client("sts", self._target.primary.name)
                self._account = str(sts.get_caller_identity()["Account"])
            return self._account

    def ensure(self, *regions: str, service: str | None = None) -> None:
        """Raise :class:`FaultRefused` unless every region is allowed (for ``service``: the GA API region only for
        Global Accelerator) and the caller's account is allowed."""
        for region in regions:
            if region in self.regions:
                continue
            if region == self._aws.ga_region and service == GLOBAL_ACCELERATOR:
                continue
            if service == ARC_CLUSTER and region in self._arc_regions():
                continue
            if region == self._aws.ga_region:
                raise FaultRefused(
                    f"refused: {service or 'a'} call in {region}, which target {self._target.name!r} allows for "
                    f"Global Accelerator only (aws.ga_region); its regions are {', '.join(self.regions)}")
            raise FaultRefused(
                f"refused: region {region} is not a region of target {self._target.name!r} "
                f"({', '.join(self.regions)}): use one of them or add it to the target file")
        account = self.account()
        if account not in self._aws.allowed_account_ids:
            raise FaultRefused(
                f"refused: AWS account {account} is not in aws.allowed_account_ids "
                f"({', '.join(self._aws.allowed_account_ids)}) of target {self._target.name!r}: switch credentials "
                "(AWS_PROFILE, aws.profile or aws.role_arn) or add the account to the target file")
