"""The AWS driver's ARC routing control fault against a fake ARC cluster (tests/arckit.py: five real HTTP endpoints
on 127.0.0.1; moto has no route53-recovery-cluster), with moto for STS (the account guardrail).

Turning the primary's control Off is reverted to the exact state read before, a revert is idempotent; the cluster
endpoints are tried in turn (four of five down still works, all five down fails with nothing changed); only the
target's routing controls and safety rules are used; a dry run lists every call and changes nothing; the action is
journaled and `aftershock recover` reverts it (also after a crash in the middle of the update), never re-applies it."""

from __future__ import annotations

import fnmatch
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.journal import outstanding
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, dump_target, load_target, parse_target
from aftershock.faults import dns
from aftershock.faults.aws.calls import CALLS
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.outcome import RevertCall
from aftershock.faults.reverts import revert_outstanding
from aftershock.planning import resolve_plan
from tests.arckit import ACCOUNT, REGIONS, RULE, FakeArcCluster, control_arn

EAST, WEST = "us-east-1", "us-west-2"
EAST_RC, WEST_RC = control_arn("east"), control_arn("west")
T = TypeVar("T")


class InOrder(random.Random):
    """Tries the endpoints in the target's order (the driver starts at a random one), so a test knows which
    endpoints are tried before the one that answers."""

    def sample(self, population: Sequence[T], k: int, *, counts: Any = None) -> list[T]:  # type: ignore[override]
        return list(population)[:k]


def make_target(cluster: FakeArcCluster, *, controls: dict[str, str] | None = None,
                rules: tuple[str, ...] = ()) -> Target:
    controls = {EAST: EAST_RC, WEST: WEST_RC} if controls is None else controls
    return parse_target({
        "name": "aws-arc", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"kind": "route53-failover", "url": "https://shop.example.com",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}],
                       "dns": {"zone": "example.com", "record": "shop.example.com",
                               "routing_controls": [{"region": r, "arn": a} for r, a in controls.items()],
                               "cluster_endpoints": cluster.described(),
                               "safety_rules_to_override": list(rules)}},
        "aws": {"allowed_account_ids": [ACCOUNT]},
    }, "aws-arc.yaml")


@pytest.fixture
def cluster(aws_env: str) -> Iterator[FakeArcCluster]:
    fake = FakeArcCluster({EAST_RC: "On", WEST_RC: "On"}).start()
    yield fake
    fake.stop()


def driver_for(target: Target, tmp_path: Path, *, dry_run: bool = False) -> AwsDriver:
    return AwsDriver(target, run=RunFolder.create(tmp_path, "arc"), dry_run=dry_run, rng=InOrder())


def writes(driver: AwsDriver) -> list[tuple[str, str, str]]:
    assert driver.calls.run is not None
    lines = [json.loads(line) for line in (driver.calls.run.path / CALLS).read_text().splitlines()]
    return [(e["event"], e["region"], e["op"]) for e in lines if e["event"] in ("call", "done", "failed")]


def test_turning_the_primary_off_is_reverted_to_the_exact_state(cluster: FakeArcCluster, tmp_path: Path) -> None:
    driver = driver_for(make_target(cluster), tmp_path)
    try:
        outcome = driver.set_routing_control(EAST, "Off")
        assert cluster.states == {EAST_RC: "Off", WEST_RC: "On"}
        assert outcome.reverts == (RevertCall("restore_routing_control", {"arn": EAST_RC, "state": "On"}),)
        assert outcome.description == (f"ARC routing control of {EAST}: On -> Off (its Route 53 health check "
                                       "fails at once)")
        with pytest.raises(FaultRefused, match=f"^routing control {EAST_RC} of {EAST} is Off already"):
            driver.set_routing_control(EAST, "Off")
        for call in outcome.reverts:
            getattr(driver, call.method)(**call.args)
        assert cluster.states == {EAST_RC: "On", WEST_RC: "On"}
        again = [getattr(driver, c.method)(**c.args).description for c in outcome.reverts]  # idempotent
        assert again == [f"routing control {EAST_RC} is On already"]
        updates = [b for _, op, b in cluster.requests if op == "UpdateRoutingControlState"]
        assert updates == [{"RoutingControlArn": EAST_RC, "RoutingControlState": "Off"},
                           {"RoutingControlArn": EAST_RC, "RoutingControlState": "On"}]
    finally:
        driver.close()


def test_the_cluster_endpoints_are_tried_in_turn_until_one_answers(cluster: FakeArcCluster, tmp_path: Path) -> None:
    for region, mode in zip(REGIONS[:4], ("down", "unavailable", "down", "unavailable"), strict=True):
        cluster.set_mode(region, mode)
    driver = driver_for(make_target(cluster), tmp_path)
    try:
        driver.set_routing_control(EAST, "Off")
        assert cluster.states[EAST_RC] == "Off"
        tried = [(event, region) for event, region, op in writes(driver) if op == "update_routing_control_state"]
        assert tried == [("call", REGIONS[0]), ("failed", REGIONS[0]), ("call", REGIONS[1]), ("failed", REGIONS[1]),
                         ("call", REGIONS[2]), ("failed", REGIONS[2]), ("call", REGIONS[3]), ("failed", REGIONS[3]),
                         ("call", REGIONS[4]), ("done", REGIONS[4])]
    finally:
        driver.close()


def test_every_endpoint_down_fails_with_nothing_changed(cluster: FakeArcCluster, tmp_path: Path) -> None:
    for region in REGIONS:
        cluster.set_mode(region, "unavailable" if region == EAST else "down")
    driver = driver_for(make_target(cluster), tmp_path)
    try:
        with pytest.raises(HarnessError, match=(
                r"^ARC get_routing_control_state failed at every cluster endpoint \(us-east-1: "
                r"EndpointTemporarilyUnavailableException; us-west-2: EndpointConnectionError; .*\): check the ARC "
                r"cluster's health and front_door.dns.cluster_endpoints, then rerun$")):
            driver.set_routing_control(EAST, "Off")
        assert cluster.states == {EAST_RC: "On", WEST_RC: "On"}
    finally:
        driver.close()


def test_only_the_targets_controls_and_safety_rules_are_used(cluster: FakeArcCluster, tmp_path: Path) -> None:
    cluster.safety_rule = True
    stranger = control_arn("stranger")
    other_account = control_arn("east", account="999999999999")
    plain = driver_for(make_target(cluster), tmp_path)
    foreign = driver_for(make_target(cluster, controls={EAST: other_account}), tmp_path)
    override = driver_for(make_target(cluster, rules=(RULE,)), tmp_path)
    try:
        with pytest.raises(FaultRefused, match=f"^refused: routing control {stranger} is not in "
                                               "front_door.dns.routing_controls of target 'aws-arc'$"):
            plain.restore_routing_control(stranger, "Off")
        with pytest.raises(FaultRefused, match=rf"^refused: routing control {other_account} is not an ARC routing "
                                               rf"control of an account in aws.allowed_account_ids \({ACCOUNT}\)"):
            foreign.set_routing_control(EAST, "Off")
        plain.set_routing_control(WEST, "Off")
        with pytest.raises(FaultRefused, match=f"^ARC refused to turn {EAST_RC} Off: a safety rule blocks it .*: "
                                               "set the other routing controls first or name the rule in "
                                               "front_door.dns.safety_rules_to_override$"):
            plain.set_routing_control(EAST, "Off")
        assert cluster.states == {EAST_RC: "On", WEST_RC: "Off"}  # the refusals made no call at all
        assert not [b for _, _, b in cluster.requests if b.get("RoutingControlArn") in (stranger, other_account)]
        override.set_routing_control(EAST, "Off")  # the target names the rule: overridden
        assert cluster.states[EAST_RC] == "Off" and cluster.requests[-1][2]["SafetyRulesToOverride"] == [RULE]
    finally:
        for driver in (plain, foreign, override):
            driver.close()


def test_a_dry_run_lists_every_call_and_changes_nothing(cluster: FakeArcCluster, tmp_path: Path) -> None:
    driver = driver_for(make_target(cluster), tmp_path, dry_run=True)
    try:
        driver.set_routing_control(EAST, "Off")
        listed = [str(c) for c in driver.calls.planned if c.service == "route53-recovery-cluster"]
        assert listed == [f"read  route53-recovery-cluster@{REGIONS[0]} get_routing_control_state("
                          f"RoutingControlArn={EAST_RC!r})",
                          f"WRITE route53-recovery-cluster@{REGIONS[0]} update_routing_control_state("
                          f"RoutingControlArn={EAST_RC!r}, RoutingControlState='Off')"]
        assert cluster.states == {EAST_RC: "On", WEST_RC: "On"}
        assert [op for _, op, _ in cluster.requests] == ["GetRoutingControlState"]
    finally:
        driver.close()


def test_the_action_is_journaled_and_recover_reverts_it_without_reapplying(
        cluster: FakeArcCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target_file = tmp_path / "aws-arc.yaml"
    dump_target(make_target(cluster), target_file)
    run = RunFolder.create(tmp_path, "arc-recover")
    monkeypatch.setenv("AFTERSHOCK_RUN_DIR", str(run.path))
    write_plan(run, resolve_plan({}, experiment="dns-routing-control.yaml", target_ref=str(target_file)))
    result = dns.set_routing_control(configuration={"aftershock_run_dir": str(run.path)})  # default: the primary
    assert result["reverts"] == ["restore_routing_control"] and cluster.states[EAST_RC] == "Off"
    # the harness dies here; `aftershock recover` builds a new driver from the run folder
    assert [f.action for f in outstanding(run)] == ["set_routing_control"]
    done = revert_outstanding(run, driver_for(make_target(cluster), tmp_path), by="recover")
    assert done == [f"routing control {EAST_RC} restored to On"] and cluster.states[EAST_RC] == "On"
    assert outstanding(run) == [] and revert_outstanding(run, driver_for(make_target(cluster), tmp_path),
                                                         by="recover") == []
    updates = [b["RoutingControlState"] for _, op, b in cluster.requests if op == "UpdateRoutingControlState"]
    assert updates == ["Off", "On"]  # the revert only: the fault was never applied again


def test_a_crash_during_the_update_is_recovered_from_the_in_flight_record(
        cluster: FakeArcCluster, tmp_path: Path) -> None:
    target = make_target(cluster)

    def crashing_session(**kwargs: Any) -> boto3.Session:
        session = boto3.Session(**kwargs)

        def crash(**_: Any) -> None:
            raise KeyboardInterrupt  # the harness is killed as the update leaves

        session.events.register("before-call.route53-recovery-cluster.UpdateRoutingControlState", crash)
        return session

    assert target.aws is not None
    run = RunFolder.create(tmp_path, "arc-crash")
    crashing = AwsDriver(target, run=run, sessions=AwsSessions(target.aws, session_factory=crashing_session))
    with pytest.raises(KeyboardInterrupt):
        crashing.set_routing_control(EAST, "Off")
    crashing.close()
    [fault] = outstanding(run)
    assert fault.action == "set_routing_control (in flight)"
    cluster.states[EAST_RC] = "Off"  # the update reached the cluster before the harness died
    revert_outstanding(run, driver_for(target, tmp_path), by="recover")
    assert cluster.states == {EAST_RC: "On", WEST_RC: "On"} and outstanding(run) == []


def test_the_example_target_and_the_iam_policy_name_the_same_routing_controls_and_listeners() -> None:
    root = Path(__file__).resolve().parents[2]
    target = load_target(root / "targets" / "example-aws-route53.yaml")
    policy = {s["Sid"]: s for s in json.loads((root / "targets" / "iam-policy.json").read_text())["Statement"]}
    assert target.front_door.dns is not None and len(target.front_door.dns.cluster_endpoints) == 5
    arc = policy["DnsArcRoutingControlsOfTheTargetOnly"]["Resource"]
    assert all(any(fnmatch.fnmatchcase(c.arn, pattern) for pattern in arc)
               for c in target.front_door.dns.routing_controls)
    listeners = policy["RegionFrontDoorOutageRuleOnTheTargetListenersOnly"]["Resource"]
    for lb in target.load_balancers:  # a listener's ARN is its load balancer's with listener/ and one more id
        assert lb.arn is not None
        listener = lb.arn.replace(":loadbalancer/", ":listener/") + "/0000000000000000"
        assert any(fnmatch.fnmatchcase(listener, pattern) for pattern in listeners), listener
