"""Kubernetes without the aws CLI: EKS tokens made in-process from the harness's session, and a kube context of
another account or region refused before any request."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from aftershock.core.errors import FaultRefused
from aftershock.faults.aws.pods import KubeClients
from aftershock.faults.aws.session import AwsSessions

ACCOUNT = "123456789012"


def eks_kubeconfig(path: Path, server: str, arn: str) -> Path:
    """What `aws eks update-kubeconfig` writes: the cluster named by its ARN, tokens from `aws eks get-token`."""
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": arn,
        "clusters": [{"name": arn, "cluster": {"server": server}}],
        "contexts": [{"name": arn, "context": {"cluster": arn, "user": arn}}],
        "users": [{"name": arn, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
            "args": ["--region", arn.split(":")[3], "eks", "get-token", "--cluster-name", arn.rsplit("/", 1)[1]]}}}],
    }))
    return path


def clients(stack: Any, kubeconfig: Path) -> KubeClients:
    sessions = AwsSessions(stack.target.aws, session_factory=stack.session)
    return KubeClients(str(kubeconfig), credentials=sessions.credentials, accounts=(ACCOUNT,),
                       regions=("us-east-1", "us-west-2"))


def test_an_eks_token_is_made_in_process_without_the_aws_cli(stack: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `aws` anywhere
    arn = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/shop"
    kube = stack.kube["east"]
    api = clients(stack, eks_kubeconfig(tmp_path / "kubeconfig", kube.url, arn))

    nodes = api.core(arn).list_node().items

    assert sorted(n.metadata.name for n in nodes) == ["node-a1", "node-a2", "node-b1"]
    scheme, _, token = kube.authorizations[-1].partition(" ")
    assert scheme == "Bearer" and token.startswith("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(token[len("k8s-aws-v1."):] + "==").decode()
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert parsed.netloc == "sts.us-east-1.amazonaws.com"
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Credential"].startswith("testing/")  # the harness's own credentials
    api.close()


@pytest.mark.parametrize(("arn", "why"), [
    ("arn:aws:eks:us-east-1:999999999999:cluster/shop",
     "of account 999999999999, not in aws.allowed_account_ids (123456789012)"),
    (f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/shop",
     "in eu-west-1, not a region of the target (us-east-1, us-west-2)"),
])
def test_a_kube_context_outside_the_target_is_refused_before_any_request(stack: Any, tmp_path: Path, arn: str,
                                                                        why: str) -> None:
    kube = stack.kube["east"]
    api = clients(stack, eks_kubeconfig(tmp_path / "kubeconfig", kube.url, arn))
    with pytest.raises(FaultRefused) as err:
        api.core(arn).list_node()
    assert str(err.value) == (f"refused: kube context {arn!r} is cluster {arn} {why}: point the target's kube "
                              "contexts at its own clusters")
    assert kube.authorizations == []
