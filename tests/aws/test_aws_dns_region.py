"""The DNS experiments on an AWS target (moto: Route 53, ELBv2, STS).

- the region's front door lost on AWS: every listener of the region's ALB gets a priority-1 rule answering 503,
  tagged; the revert deletes exactly those rules (and one left by a crash, found by its tag), nothing else;
  refused with nothing changed when priority 1 is taken;
- ``aftershock run dns-region-failover|dns-failover --dry-run`` against an AWS target lists every API call of the
  method's faults and changes nothing;
- ``dns-routing-control`` against a target without routing controls (or, on AWS, cluster endpoints) is refused
  before anything starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from aftershock.core.errors import FaultRefused, UsageError
from aftershock.core.route53 import RoutingControl
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, dump_target, parse_target
from aftershock.faults.aws.alb_outage import BODY, TAG
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.outcome import RevertCall
from aftershock.faults.registry import DRIVERS
from aftershock.runner import RunOptions, dry_run_calls, prepare

ACCOUNT, EAST, WEST = "123456789012", "us-east-1", "us-west-2"
EAST_ALB, WEST_ALB = "east-alb-1.us-east-1.elb.amazonaws.com", "west-alb-2.us-west-2.elb.amazonaws.com"
RECORD = "shop.example.com"
EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


class Stack:
    """A Route 53 failover record with a health check per region, and an ALB with two listeners in the east."""

    def __init__(self) -> None:
        r53 = boto3.client("route53", region_name=EAST)
        self.zone = r53.create_hosted_zone(Name="example.com", CallerReference="z1")["HostedZone"]["Id"]
        self.checks = {r: r53.create_health_check(CallerReference=f"hc-{r}", HealthCheckConfig={
            "FullyQualifiedDomainName": alb, "Port": 443, "Type": "HTTPS", "ResourcePath": "/health",
            "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"] for r, alb in ((EAST, EAST_ALB),
                                                                                              (WEST, WEST_ALB))}
        r53.change_resource_record_sets(HostedZoneId=self.zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": RECORD, "Type": "CNAME", "TTL": 60, "SetIdentifier": r, "Failover": role,
                "HealthCheckId": self.checks[r], "ResourceRecords": [{"Value": alb}]}}
            for r, role, alb in ((EAST, "PRIMARY", EAST_ALB), (WEST, "SECONDARY", WEST_ALB))]})
        ec2 = boto3.client("ec2", region_name=EAST)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{EAST}{az}")
                   ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
        self.elb = boto3.client("elbv2", region_name=EAST)
        self.lb = self.elb.create_load_balancer(Name="shop-east", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"]
        group = self.elb.create_target_group(Name="shop", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
            "TargetGroupArn"]
        self.listeners = [self.elb.create_listener(
            LoadBalancerArn=self.lb, Protocol="HTTP", Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]["ListenerArn"]
            for port in (80, 8080)]
        # an application rule of the team's own at priority 5: never touched
        self.elb.create_rule(ListenerArn=self.listeners[0], Priority=5, Conditions=[
            {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            Actions=[{"Type": "forward", "TargetGroupArn": group}])

    def rules(self) -> dict[str, list[tuple[str, str]]]:
        """Per listener: (priority, first action type) of each rule."""
        return {listener: sorted((r["Priority"], r["Actions"][0]["Type"])
                                 for r in self.elb.describe_rules(ListenerArn=listener)["Rules"])
                for listener in self.listeners}

    def target(self) -> Target:
        return parse_target({
            "name": "aws-dns-region", "kind": "aws",
            "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                        {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
            "front_door": {"kind": "route53-failover", "url": f"https://{RECORD}",
                           "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                               {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}],
                           "dns": {"zone": "example.com", "record": RECORD, "ttl_s": 60, "hosted_zone_id": self.zone,
                                   "answers": {EAST: EAST_ALB, WEST: WEST_ALB},
                                   "health_checks": [{"region": r, "id": i} for r, i in self.checks.items()]}},
            "load_balancers": [{"name": "alb-east", "region": EAST, "arn": self.lb}],
            "aws": {"allowed_account_ids": [ACCOUNT]},
        }, "aws-dns-region.yaml")


@pytest.fixture
def stack(aws_env: str) -> Iterator[Stack]:
    yield Stack()


def test_the_front_door_outage_adds_a_503_rule_per_listener_and_the_revert_deletes_only_ours(
        stack: Stack, tmp_path: Path) -> None:
    before = stack.rules()
    driver = AwsDriver(stack.target(), run=RunFolder.create(tmp_path, "alb"))
    try:
        outcome = driver.set_alb_outage(EAST)
        after = stack.rules()
        assert {listener: [r for r in rules if r not in before[listener]] for listener, rules in after.items()} \
            == {listener: [("1", "fixed-response")] for listener in stack.listeners}
        rules = outcome.details["rules"]
        assert outcome.reverts == (RevertCall("restore_alb_outage", {"region": EAST, "rules": rules}),)
        fixed = stack.elb.describe_rules(RuleArns=rules[:1])["Rules"][0]["Actions"][0]["FixedResponseConfig"]
        assert fixed == {"StatusCode": "503", "ContentType": "text/plain", "MessageBody": BODY}
        assert all(TAG in t["Tags"] for t in stack.elb.describe_tags(ResourceArns=rules)["TagDescriptions"])
        with pytest.raises(FaultRefused, match=f"^lose_region_front_door: listener {stack.listeners[0]} has a rule "
                                               "at priority 1 already"):
            driver.set_alb_outage(EAST)  # a second outage would not come first: refused, nothing added
        assert stack.rules() == after
        # the revert knows one rule only (a crash after the second create): the other is found by its tag
        restored = driver.restore_alb_outage(EAST, rules[:1])
        assert stack.rules() == before and sorted(restored.details["deleted"]) == sorted(rules)
        again = driver.restore_alb_outage(EAST, rules).description  # idempotent
        assert again == f"the ALB(s) of {EAST} serve again: " + ", ".join(f"{r} (gone already)" for r in sorted(rules))
    finally:
        driver.close()


def dry_run(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, experiment: str) -> list[str]:
    target_file = tmp_path / "aws.yaml"
    dump_target(stack.target(), target_file)
    lines: list[str] = []

    def factory(target: Target, *, run: RunFolder | None, dry_run: bool) -> Any:
        return AwsDriver(target, run=run, dry_run=dry_run, echo=lines.append)

    monkeypatch.setitem(DRIVERS, "aws", factory)
    dry_run_calls(prepare(EXPERIMENTS / f"{experiment}.yaml", RunOptions(target=str(target_file))))
    return [line.removeprefix("dry run: ") for line in lines]


def test_dry_run_of_dns_region_failover_lists_every_call_and_changes_nothing(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = stack.rules()
    listed = dry_run(stack, tmp_path, monkeypatch, "dns-region-failover")
    ops = [(line.split()[0], line.split()[1], line.split()[2].split("(")[0]) for line in listed]
    assert ops == [("read", f"elbv2@{EAST}", "describe_listeners"),
                   ("read", f"elbv2@{EAST}", "describe_rules"), ("read", f"elbv2@{EAST}", "describe_rules"),
                   ("WRITE", f"elbv2@{EAST}", "create_rule"), ("WRITE", f"elbv2@{EAST}", "create_rule")]
    assert f"ListenerArn='{stack.listeners[1]}', Priority=1" in listed[-1]
    assert stack.rules() == before


def test_dry_run_of_dns_failover_lists_the_health_check_inversion(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = boto3.client("route53", region_name=EAST).get_health_check(HealthCheckId=stack.checks[EAST])
    listed = dry_run(stack, tmp_path, monkeypatch, "dns-failover")
    assert listed == [f"read  route53@{EAST} get_health_check(HealthCheckId='{stack.checks[EAST]}')",
                      f"WRITE route53@{EAST} update_health_check(HealthCheckId='{stack.checks[EAST]}', "
                      "HealthCheckVersion=1, Inverted=True)"]
    after = boto3.client("route53", region_name=EAST).get_health_check(HealthCheckId=stack.checks[EAST])
    assert after["HealthCheck"] == config["HealthCheck"]


def test_the_routing_control_experiment_is_refused_before_anything_starts_without_routing_controls(
        stack: Stack, tmp_path: Path) -> None:
    target = stack.target()
    plain, no_endpoints = tmp_path / "plain.yaml", tmp_path / "no-endpoints.yaml"
    dump_target(target, plain)
    assert target.front_door.dns is not None
    dns = target.front_door.dns.model_copy(update={"routing_controls": (RoutingControl(
        region=EAST, arn=f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/p/routingcontrol/east"),)})
    dump_target(target.model_copy(update={"front_door": target.front_door.model_copy(update={"dns": dns})}),
                no_endpoints)
    for path, missing in ((plain, "routing_controls"), (no_endpoints, "cluster_endpoints")):
        with pytest.raises(UsageError) as refused:
            prepare(EXPERIMENTS / "dns-routing-control.yaml", RunOptions(target=str(path), out=tmp_path / "runs"))
        assert str(refused.value) == (
            f"experiment dns-routing-control turns an ARC routing control, but target 'aws-dns-region' has no "
            f"front_door.dns.{missing}: add the routing controls (region, arn) and the ARC cluster's endpoints "
            "(region, url), or run dns-failover instead")
    assert not (tmp_path / "runs").exists()
