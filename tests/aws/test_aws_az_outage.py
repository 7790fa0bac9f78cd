"""AZ outage on AWS: inject, the end state, revert through the journal, the exact original state; dry run; FIS."""

from __future__ import annotations

from typing import Any

from aftershock.core.journal import outstanding
from aftershock.core.target import AzOutageSettings
from aftershock.faults.reverts import record_injected, revert_outstanding

AZ = "us-east-1a"


def inject(stack: Any, driver: Any) -> Any:
    outcome = driver.az_outage(AZ)
    # what aftershock.faults.actions does after the driver returns
    record_injected(stack.run, "az_outage", outcome, 0.0)
    return outcome


def test_az_outage_blackholes_stops_cordons_fails_over_and_reverts_exactly(stack: Any) -> None:
    before = stack.snapshot()
    driver = stack.driver()
    assert driver.observe().writer == "east-1"

    outcome = inject(stack, driver)

    blackhole = outcome.details["blackhole_nacl"]
    after = stack.nacl_of_subnets()
    assert {s: after[s] for s in stack.subnets[AZ]} == {s: blackhole for s in stack.subnets[AZ]}
    assert all(after[s] == before["nacls"][s] for az, ids in stack.subnets.items() if az != AZ for s in ids)
    entries = stack.client("ec2").describe_network_acls(NetworkAclIds=[blackhole])["NetworkAcls"][0]["Entries"]
    assert all(e["RuleAction"] == "deny" for e in entries)  # nothing allowed: a custom ACL without rules
    states = stack.instance_states()
    stopped = sorted(i for i, s in states.items() if s == "stopped")
    assert stopped == [stack.asg_instance]  # the instance of asg_names in the AZ, nothing else
    assert states[stack.instances[AZ]] == "running"  # in the AZ but in no ASG of asg_names (a bastion): untouched
    assert states[stack.other_vpc_instance] == "running"  # outside the target's VPC: untouched
    # the ASG loses the AZ's subnets only; its other AZs keep every process (nothing more is suspended)
    assert stack.asg_subnets()["shop-nodes"] == f"{stack.subnets['us-east-1b'][0]},{stack.subnets['us-east-1c'][0]}"
    assert stack.suspended() == ["AddToLoadBalancer"]
    assert stack.kube["east"].cordoned() == {"node-a1", "node-a2"}
    assert sorted(n for _, n in stack.kube["east"].pods) == ["other-1", "shop-2"]  # shop pods of the AZ deleted
    assert outcome.details["writer_failover"] == {"from": "east-1", "to": "east-2"}
    observation = driver.observe()
    assert observation.writer == "east-2" and observation.azs_down == (AZ,) and not observation.healthy

    # the revert is recorded with plain JSON args; it restores everything exactly
    [fault] = outstanding(stack.run)
    assert fault.reverts[0].args["asg_subnets"] == {"shop-nodes": before["asg_subnets"]["shop-nodes"]}
    assert fault.reverts[0].args["asgs"] == {}
    assert fault.reverts[0].args["nodes"] == [{"context": "east", "node": "node-a1"}]
    done = revert_outstanding(stack.run, stack.driver(), by="rollback")

    assert done and done[0].startswith(f"AZ {AZ} (us-east-1) restored")
    assert stack.snapshot() == before  # every ACL association, instance state, ASG subnet, node as before
    assert driver.observe().azs_down == ()


def test_az_restore_with_only_the_az_finds_the_blackhole_by_its_tags(stack: Any) -> None:
    before = stack.nacl_of_subnets()
    stack.driver().az_outage(AZ)
    outcome = stack.driver().az_restore(AZ)
    assert stack.nacl_of_subnets() == before
    assert "back on their network ACLs" in outcome.description


def test_dry_run_lists_every_call_and_changes_nothing(stack: Any) -> None:
    before = stack.snapshot()
    lines: list[str] = []
    driver = stack.driver(dry_run=True, echo=lines.append)
    outcome = driver.az_outage(AZ)

    assert stack.snapshot() == before
    assert stack.kube["east"].mutations == [] and len(stack.kube["east"].pods) == 4
    writes = [line for line in lines if line.startswith("dry run: WRITE")]
    ops = [w.split()[4].split("(")[0] for w in writes]
    assert ops == ["create_network_acl", "replace_network_acl_association", "replace_network_acl_association",
                   "patch_node", "delete_namespaced_pod", "delete_namespaced_pod", "update_auto_scaling_group",
                   "stop_instances", "failover_db_cluster"]
    assert any("read  ec2@us-east-1 describe_network_acls" in line for line in lines)
    events = [r["event"] for r in stack.run.records("aws-calls.jsonl")]
    assert set(events) == {"planned", "note"}
    assert not stack.run.file("faults.jsonl").exists()
    assert outcome.reverts[0].method == "az_restore"


def test_every_mutating_call_is_recorded_before_it_is_made(stack: Any) -> None:
    stack.driver().az_outage(AZ)
    records = list(stack.run.records("aws-calls.jsonl"))
    calls = [r for r in records if r["event"] == "call"]
    assert [r["op"] for r in calls][:3] == ["create_network_acl", "replace_network_acl_association",
                                            "replace_network_acl_association"]
    for call in calls:  # each "call" comes before its "done"
        later = records[records.index(call) + 1:]
        assert any(r["event"] == "done" and r["op"] == call["op"] for r in later)


def _fis_target(stack: Any, *, asg_capacity: bool = False) -> str:
    """The stack's target in FIS mode with a template for the AZ; returns the template's id."""
    fis = stack.client("fis")
    actions: dict[str, Any] = {"stop": {"actionId": "aws:ec2:stop-instances", "targets": {"Instances": "i"}}}
    if asg_capacity:
        actions["asg"] = {"actionId": "aws:ec2:asg-insufficient-instance-capacity-error",
                          "parameters": {"availabilityZoneIdentifiers": AZ, "duration": "PT30M"},
                          "targets": {"AutoScalingGroups": "g"}}
    template = fis.create_experiment_template(
        clientToken="t", description="AZ Availability: Power Interruption",
        roleArn="arn:aws:iam::123456789012:role/fis",
        stopConditions=[{"source": "none"}],
        actions=actions,
        targets={"i": {"resourceType": "aws:ec2:instance", "selectionMode": "ALL",
                       "resourceTags": {"AzImpairmentPower": "StopInstances"}},
                 "g": {"resourceType": "aws:ec2:autoscaling-group", "selectionMode": "ALL",
                       "resourceTags": {"AzImpairmentPower": "IceAsg"}}})["experimentTemplate"]["id"]
    aws = stack.target.aws.model_copy(update={
        "az_outage": AzOutageSettings(mode="fis"),
        "regions": (stack.target.aws.regions[0].model_copy(update={"fis_templates": {AZ: template}}),)})
    stack.target = stack.target.model_copy(update={"aws": aws})
    return str(template)


def test_fis_mode_starts_the_template_and_stop_reverts_it(stack: Any) -> None:
    fis = stack.client("fis")
    template = _fis_target(stack)
    before = stack.snapshot()

    outcome = stack.driver().az_outage(AZ)
    experiment = outcome.details["fis_experiment"]
    assert fis.get_experiment(id=experiment)["experiment"]["experimentTemplateId"] == template

    # the template stops instances but not ASG launches into the AZ: the outcome says the fault is kinder
    assert outcome.details["fis_gaps"] and "aws:ec2:asg-insufficient-instance-capacity-error" in outcome.description

    restored = stack.driver().az_restore(**outcome.reverts[0].args)
    assert f"FIS experiment {experiment} stopped" in restored.description
    assert fis.get_experiment(id=experiment)["experiment"]["state"]["status"] in ("stopping", "stopped",
                                                                                  "completed")
    assert stack.snapshot() == before


def test_a_fis_template_of_the_whole_scenario_has_no_caveat(stack: Any) -> None:
    _fis_target(stack, asg_capacity=True)
    outcome = stack.driver().az_outage(AZ)
    try:
        assert outcome.details["fis_gaps"] == [] and "weaker" not in outcome.description
    finally:
        stack.driver().az_restore(**outcome.reverts[0].args)


def test_observe_sees_a_running_fis_experiment_of_ours_as_its_az_down(stack: Any) -> None:
    template = _fis_target(stack)
    fis = stack.client("fis")
    fis.start_experiment(clientToken="other", experimentTemplateId=template, tags={"team": "other"})
    driver = stack.driver()
    assert driver.observe().azs_down == ()  # someone else's experiment of the same template is not ours

    outcome = driver.az_outage(AZ)
    observation = driver.observe()
    assert observation.azs_down == (AZ,) and observation.healthy is False

    driver.az_restore(**outcome.reverts[0].args)
    assert driver.observe().azs_down == ()
