"""EKS access without the ``aws`` CLI: bearer tokens made in-process with the harness's own credentials, and the
check that a kube context belongs to the target before any request.

An EKS token is a presigned STS ``GetCallerIdentity`` URL whose signature covers the ``x-k8s-aws-id`` header (the
cluster's name), base64url-encoded behind ``k8s-aws-v1.`` -- what ``aws eks get-token`` prints. Made here, it
carries the harness's identity (``aws.profile`` / ``aws.role_arn``), not whatever the CLI would use, and needs no
``aws`` on PATH. The cluster's ARN (the kubeconfig's cluster name, as ``aws eks update-kubeconfig`` writes it)
must be in one of ``aws.allowed_account_ids`` and in one of the target's regions.

Example::

    token = eks_token(sessions.credentials(), "us-east-1", "shop")   # "k8s-aws-v1.aHR0cHM6..."
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from botocore.hooks import HierarchicalEmitter
from botocore.model import ServiceId
from botocore.signers import RequestSigner

from aftershock.core.errors import FaultRefused

TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_TTL_S = 600.0  # EKS accepts a token for 15 minutes; a fresh one is made after 10
_ARN = re.compile(r"^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster/(.+)$")


@dataclass(frozen=True)
class EksCluster:
    arn: str
    region: str
    account: str
    name: str


def eks_cluster(name: str) -> EksCluster | None:
    """The EKS cluster a kubeconfig cluster name (an ARN) stands for; ``None`` for anything else."""
    m = _ARN.match(name)
    return EksCluster(name, m[1], m[2], m[3]) if m else None


def eks_token(credentials: Any, region: str, cluster: str) -> str:
    """A bearer token for EKS cluster ``cluster`` in ``region``, signed with ``credentials`` (botocore)."""
    events = HierarchicalEmitter()  # the signer holds it weakly: keep it alive while signing
    signer = RequestSigner(ServiceId("sts"), region, "sts", "v4", credentials, events)
    request = {"method": "GET", "body": {}, "context": {}, "headers": {"x-k8s-aws-id": cluster},
               "url": f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"}
    url = signer.generate_presigned_url(request, region_name=region, expires_in=60, operation_name="")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def check_cluster(context: str | None, cluster: EksCluster, *, accounts: tuple[str, ...],
                  regions: tuple[str, ...]) -> None:
    """Refuse a context whose cluster is in another account or outside the target's regions."""
    where = f"kube context {context or '(current)'!r} is cluster {cluster.arn}"
    if accounts and cluster.account not in accounts:
        raise FaultRefused(f"refused: {where} of account {cluster.account}, not in aws.allowed_account_ids "
                           f"({', '.join(accounts)}): point the target's kube contexts at its own clusters")
    if regions and cluster.region not in regions:
        raise FaultRefused(f"refused: {where} in {cluster.region}, not a region of the target "
                           f"({', '.join(regions)}): point the target's kube contexts at its own clusters")
