"""Exact blast radius: subnets, asg_names and the tag filter narrow what an AZ outage touches; Spot instances are
left alone with a note; the dry run lists exactly that; the GA region admits Global Accelerator calls only."""

from __future__ import annotations

from typing import Any

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.target import AzOutageSettings
from aftershock.faults.reverts import record_injected, revert_outstanding

AZ = "us-east-1a"
OPT_IN = {"aftershock:az-outage": "true"}


def narrowed(stack: Any, **region: Any) -> None:
    aws = stack.target.aws
    update: dict[str, Any] = {"regions": (aws.regions[0].model_copy(update=region),)}
    if "tags" in region:
        update["az_outage"] = AzOutageSettings(tags=region.pop("tags"))
        update["regions"] = (aws.regions[0].model_copy(update=region),)
    stack.target = stack.target.model_copy(update={"aws": aws.model_copy(update=update)})


def run(stack: Any, subnet: str, *, tags: dict[str, str] | None = None, spot: bool = False) -> str:
    market = {"InstanceMarketOptions": {"MarketType": "spot"}} if spot else {}
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}]
    return str(stack.client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                                                 **market, **({"TagSpecifications": spec} if tags else {}))[
        "Instances"][0]["InstanceId"])


def test_subnets_and_asg_names_leave_other_subnets_and_other_asgs_alone(stack: Any) -> None:
    a0, a1 = stack.subnets[AZ]
    other_zone = f"{a0},{stack.subnets['us-east-1b'][0]}"
    stack.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="other-team", MinSize=1, MaxSize=2, DesiredCapacity=1,
        LaunchTemplate={"LaunchTemplateName": "nodes"}, VPCZoneIdentifier=other_zone)
    narrowed(stack, subnets={AZ: (a0,)}, asg_names=("shop-nodes",))
    in_other_subnet = run(stack, a1)
    before = stack.snapshot()

    outcome = stack.driver().az_outage(AZ)

    states = stack.instance_states()
    assert sorted(i for i, s in states.items() if s == "stopped") == [stack.asg_instance]
    assert states[in_other_subnet] == states[stack.instances[AZ]] == "running"  # other subnet; no ASG (bastion)
    assert stack.asg_subnets()["other-team"] == other_zone  # another team's ASG keeps the AZ
    assert stack.nacl_of_subnets()[a1] == before["nacls"][a1] != stack.nacl_of_subnets()[a0]
    assert outcome.details["subnets"] == [a0]
    record_injected(stack.run, "az_outage", outcome, 0.0)
    revert_outstanding(stack.run, stack.driver(), by="rollback")
    assert stack.snapshot() == before


def test_tag_filter_and_spot_instances_with_the_dry_run_listing_exactly_what_is_touched(stack: Any) -> None:
    a0 = stack.subnets[AZ][0]
    narrowed(stack, asg_names=(), tags=OPT_IN)
    opted_in = run(stack, a0, tags=OPT_IN)
    spot = run(stack, a0, tags=OPT_IN, spot=True)
    lines: list[str] = []
    before = stack.snapshot()

    planned = stack.driver(dry_run=True, echo=lines.append).az_outage(AZ)

    assert stack.snapshot() == before
    notes = [line for line in lines if line.startswith("dry run: touches") or line.startswith("dry run: leaves")]
    assert f"dry run: touches instances {opted_in} (stopped)" in notes
    assert f"dry run: leaves alone Spot instances {spot} (EC2 cannot stop them reliably)" in notes
    stops = [line for line in lines if "stop_instances" in line]
    assert stops == [f"dry run: WRITE ec2@us-east-1 stop_instances(InstanceIds=['{opted_in}'])"]

    outcome = stack.driver().az_outage(AZ)
    assert outcome.details["instances_stopped"] == planned.details["instances_stopped"] == [opted_in]
    assert outcome.details["spot_left_alone"] == [spot]
    states = stack.instance_states()
    assert states[opted_in] == "stopped"
    assert states[spot] == states[stack.instances[AZ]] == states[stack.asg_instance] == "running"  # untagged


def test_the_ga_region_admits_global_accelerator_calls_only(stack: Any) -> None:
    east = stack.target.regions[0]
    stack.target = stack.target.model_copy(update={"regions": (east,)})  # us-west-2 is the GA API region only
    driver = stack.driver()
    driver.guard.ensure("us-west-2", service="globalaccelerator")
    with pytest.raises(FaultRefused) as err:
        driver.calls.write(stack.client("ec2", "us-west-2"), "stop_instances", InstanceIds=["i-0123456789abcdef0"])
    assert str(err.value) == ("refused: ec2 call in us-west-2, which target 'aws-test' allows for Global "
                              "Accelerator only (aws.ga_region); its regions are us-east-1")
    assert [r for r in stack.run.records("aws-calls.jsonl")] == []
