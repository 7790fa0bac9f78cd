"""The harness role's policy lists exactly the API actions the driver calls (and the example target loads)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
from botocore import xform_name

from aftershock.core.target import load_target

ROOT = Path(__file__).resolve().parents[2]
# boto3 client name -> IAM prefix
SERVICES = {"ec2": "ec2", "autoscaling": "autoscaling", "rds": "rds", "cloudwatch": "cloudwatch",
            "elbv2": "elasticloadbalancing", "globalaccelerator": "globalaccelerator", "fis": "fis",
            "secretsmanager": "secretsmanager", "sts": "sts", "dynamodb": "dynamodb",
            "arc-zonal-shift": "arc-zonal-shift", "s3": "s3", "route53": "route53", "cognito-idp": "cognito-idp",
            "route53-recovery-cluster": "route53-recovery-cluster"}
NOT_DRIVER_CALLS = {"eks:DescribeCluster"}  # used by `aws eks get-token` in the kubeconfig, not by the driver
NO_PERMISSION_NEEDED = {"sts:AssumeRole"}   # granted by the role's trust policy


def driver_actions() -> set[str]:
    """Operation names in faults/aws/*.py, as IAM actions of the services that have them. A name several
    services share (``get_resource_policy``) counts only for the services whose clients the files naming it make."""
    botocore_session = botocore.session.Session()
    by_service: dict[str, dict[str, str]] = {}
    for client in SERVICES:
        model = botocore_session.get_service_model(client)
        # boto3's own method names (TestDNSAnswer -> test_dns_answer, FailoverDBCluster -> failover_db_cluster)
        by_service[client] = {xform_name(op): op for op in model.operation_names}
    files = [p.read_text() for p in (ROOT / "faults" / "aws").glob("*.py")]
    actions = set()
    for source in files:
        names = set(re.findall(r'"([a-z]+(?:_[a-z0-9]+)+)"', source))
        names |= set(re.findall(r"\.([a-z]+(?:_[a-z0-9]+)+)\(", source))
        made = set(re.findall(r'client\(\s*"([a-z0-9-]+)"', source))
        for name in names:
            having = [c for c in SERVICES if name in by_service[c]]
            if len(having) > 1 and made & set(having):
                having = [c for c in having if c in made]
            actions |= {f"{SERVICES[c]}:{by_service[c][name]}" for c in having}
    return actions


def test_policy_lists_exactly_the_actions_the_driver_calls() -> None:
    policy = json.loads((ROOT / "targets" / "iam-policy.json").read_text())
    listed = set()
    for statement in policy["Statement"]:
        if statement["Sid"].startswith("Ledger"):
            continue  # the ledgers' own data calls (probes, not the driver), in IAM's names
        action = statement["Action"]
        listed |= {action} if isinstance(action, str) else set(action)
    listed.discard("ec2:CreateTags")  # implied by create_network_acl(TagSpecifications=...)
    listed.discard("fis:TagResource")  # implied by start_experiment(tags=...)
    listed.discard("elasticloadbalancing:AddTags")  # implied by create_rule(Tags=...)
    assert listed - NOT_DRIVER_CALLS == driver_actions() - NO_PERMISSION_NEEDED


def test_policy_bounds_every_mutating_action_by_resource_or_documented_condition() -> None:
    policy = json.loads((ROOT / "targets" / "iam-policy.json").read_text())
    statements = {s["Sid"]: s for s in policy["Statement"]}
    for sid, statement in statements.items():
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        # read-only (route53:TestDNSAnswer only asks the name servers what they would answer)
        if all(a.split(":")[1].startswith(("Describe", "Get", "List")) or a == "route53:TestDNSAnswer"
               for a in actions):
            continue
        # a mutating action is bounded by its resources or by a condition key
        assert statement["Resource"] != "*" or "Condition" in statement, sid
    # instances: aws:ResourceTag (documented for ec2 instance resources), not ec2:Vpc (not listed for instances)
    start_stop = next(s for s in statements.values() if "ec2:StopInstances" in s["Action"])
    assert set(start_stop["Action"]) == {"ec2:StopInstances", "ec2:StartInstances"}
    assert list(start_stop["Condition"]["StringLike"]) == ["aws:ResourceTag/aws:autoscaling:groupName"]
    assert "ec2:Vpc" not in json.dumps(policy)
    delete = next(s for s in statements.values() if s["Action"] == "ec2:DeleteNetworkAcl")
    assert delete["Condition"] == {"StringEquals": {"aws:ResourceTag/aftershock:fault": "az-outage"}}
    # zonal shift: the documented arc-zonal-shift:ResourceIdentifier key, on the target's load balancers only
    shift = next(s for s in statements.values() if s["Action"] == "arc-zonal-shift:StartZonalShift")
    assert list(shift["Condition"]["StringLike"]) == ["arc-zonal-shift:ResourceIdentifier"]
    target = load_target(ROOT / "targets" / "example-aws.yaml")
    arns = [lb.arn for lb in target.load_balancers if lb.arn]
    patterns = shift["Condition"]["StringLike"]["arc-zonal-shift:ResourceIdentifier"]
    assert arns and all(any(re.fullmatch(p.replace("*", ".*"), arn) for p in patterns) for arn in arns)
    create = next(s for s in statements.values() if "ec2:CreateNetworkAcl" in s["Action"])
    assert create["Condition"]["StringEquals"]["aws:RequestedRegion"] == ["us-east-1", "us-west-1"]


def test_example_target_loads() -> None:
    target = load_target(ROOT / "targets" / "example-aws.yaml")
    assert target.kind == "aws" and target.aws is not None
    assert target.aws.region("us-east-1").vpc_id and target.database and target.database.global_cluster
    # recover waits as long as the health checks need: ALB 5 x (30 + 5) s, GA 3 x (10 + 5) s, instance start 300 s
    assert target.health_wait_s == 5 * 35 + 3 * 15 + 300
