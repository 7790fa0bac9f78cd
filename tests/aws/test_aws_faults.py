"""Pod kill, writer crash, global switchover/failover, traffic dial, observers, credentials, unsupported faults."""

from __future__ import annotations

import random
from typing import Any

import pytest

from aftershock.core.credentials import Conninfo
from aftershock.core.errors import FaultRefused
from aftershock.faults.reverts import record_injected, revert_outstanding
from aftershock.sampler import sample_of

EAST, WEST = "us-east-1", "us-west-2"


def test_kill_pods_by_count_percent_and_az(stack: Any) -> None:
    driver = stack.driver(rng=random.Random(1))
    outcome = driver.kill_pods(EAST, az=None, count=1, percent=None)
    assert len(outcome.details["pods"]) == 1 and outcome.reverts == ()
    assert len([p for p in stack.kube["east"].pods if p[1].startswith("shop-")]) == 2

    outcome = driver.kill_pods(EAST, az="us-east-1b", count=None, percent=100)
    assert outcome.details["pods"] in ([], ["shop/shop-2"])  # only the pod on the 1b node
    assert all(node != "node-b1" for node in (p["spec"]["nodeName"] for p in stack.kube["east"].pods.values()
                                               if p["metadata"]["labels"]["app"] == "shop"))
    assert ("shop", "other-1") in stack.kube["east"].pods  # other apps are never touched
    assert stack.kube["west"].mutations == []  # the other region's cluster (context) is untouched


def test_kill_pods_percent_rounds_up_in_the_other_regions_context(stack: Any) -> None:
    outcome = stack.driver().kill_pods(WEST, az=None, count=None, percent=10)
    assert outcome.details["pods"] == ["shop/shop-w1"]
    assert stack.kube["west"].mutations == [("DELETE", "/api/v1/namespaces/shop/pods/shop-w1?gracePeriodSeconds=0")]
    with pytest.raises(FaultRefused, match=r"^no running pods of target 'aws-test' in us-west-2"):
        stack.driver().kill_pods(WEST, az=None, count=1, percent=None)


def test_crash_writer_fails_over_to_an_explicit_reader_in_another_az(stack: Any) -> None:
    outcome = stack.driver().crash_writer()
    assert outcome.details == {"cluster": "shop-east", "region": EAST, "old_writer": "east-1", "new_writer": "east-2"}
    [call] = [r for r in stack.run.records("aws-calls.jsonl") if r["event"] == "call"]
    assert call["params"] == {"DBClusterIdentifier": "shop-east", "TargetDBInstanceIdentifier": "east-2"}
    assert stack.driver().observe().writer == "east-2"


def test_switchover_waits_for_the_writer_region_and_reverts_back(stack: Any) -> None:
    driver = stack.driver()
    outcome = driver.switchover_global_database(WEST)
    assert [op for op, _ in stack.fakes.calls if "Global" in op] == ["SwitchoverGlobalCluster"]
    assert stack.fakes.calls[-1][1]["TargetDbClusterIdentifier"].endswith(":us-west-2:123456789012:cluster:shop-west")
    observation = driver.observe()
    assert (observation.writer, observation.writer_region) == ("west-1", WEST)
    assert stack.fakes.transitions == 0  # it waited through the "switching-over" state

    record_injected(stack.run, "switchover_global_database", outcome, 0.0)
    revert_outstanding(stack.run, stack.driver(), by="rollback")
    assert driver.observe().writer_region == EAST
    with pytest.raises(FaultRefused, match=r"^the global writer is already in us-east-1: nothing to move$"):
        driver.switchover_global_database(EAST)


def test_global_failover_allows_data_loss_and_its_reverts_rebuild_then_switch_back(stack: Any) -> None:
    driver = stack.driver()
    outcome = driver.failover_global_database(WEST)
    _, params = next(c for c in stack.fakes.calls if c[0] == "FailoverGlobalCluster")
    assert params["AllowDataLoss"] is True and params["GlobalClusterIdentifier"] == "shop-global"
    assert [(c.method, c.args) for c in outcome.reverts] == [("restore_database_region", {"region": EAST}),
                                                             ("restore_global_writer", {"to_region": EAST})]
    record_injected(stack.run, "failover_global_database", outcome, 0.0)
    done = revert_outstanding(stack.run, stack.driver(), by="rollback")
    assert done[0] == "database cluster in us-east-1 is a secondary of the global cluster again"
    assert driver.observe().writer_region == EAST


def test_traffic_dial_goes_to_the_ga_region_and_reverts_to_the_previous_dial(stack: Any) -> None:
    driver = stack.driver()
    outcome = driver.set_traffic_dial(EAST, 0)
    assert stack.fakes.dials == {EAST: 0, WEST: 0}
    assert outcome.reverts[0].args == {"region": EAST, "dial": 100, "groups": {stack.fakes.group_arn(EAST): 100}}
    update = next(r for r in stack.run.records("aws-calls.jsonl") if r["op"] == "update_endpoint_group")
    assert update["region"] == "us-west-2"  # the Global Accelerator API region
    record_injected(stack.run, "set_traffic_dial", outcome, 0.0)
    revert_outstanding(stack.run, stack.driver(), by="rollback")
    assert stack.fakes.dials == {EAST: 100, WEST: 0}


def test_observe_reports_writer_replicas_dials_lag_and_health(stack: Any) -> None:
    stack.client("cloudwatch", WEST).put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "AuroraGlobalDBReplicationLag", "Value": 250.0, "Unit": "Milliseconds",
        "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "shop-west"}]}])
    observation, view = stack.driver().observe_aws()
    assert (observation.writer, observation.writer_region) == ("east-1", EAST)
    assert [(r.region, r.desired, r.ready) for r in observation.replicas] == [(EAST, 3, 3), (WEST, 1, 1)]
    assert observation.dials == {EAST: 100, WEST: 0} and observation.azs_down == ()
    assert observation.replication_lag_s == {"shop-west": 0.25}
    assert view.endpoints_healthy == {EAST: True, WEST: True}
    assert view.asgs["shop-nodes"][0] == 1
    assert view.alb_targets["alb-east"][1] == 1
    assert observation.healthy is (view.alb_targets["alb-east"][0] == 1 and view.asgs["shop-nodes"][1] >= 1)
    # the sampler keeps ALB target and GA endpoint health (RTO phase boundaries: aftershock.faults.aws.health_events)
    healthy_targets, targets = view.alb_targets["alb-east"]
    assert sum(view.alb_states["alb-east"].values()) == targets
    assert view.alb_states["alb-east"].get("healthy", 0) == healthy_targets
    assert (observation.alb_target_states, observation.endpoints_healthy) == (view.alb_states, view.endpoints_healthy)
    sample = sample_of(observation)
    assert sample.alb_target_states == (("alb-east", tuple(sorted(view.alb_states["alb-east"].items()))),)
    assert sample.endpoints_healthy == ((EAST, True), (WEST, True))


def test_writer_conninfo_reads_the_secret_and_never_shows_it(stack: Any) -> None:
    conninfo = stack.driver().writer_conninfo()
    secret = Conninfo(conninfo)
    assert "password=s3cret-from-sm" in conninfo.replace("'", "")
    assert secret.endpoint == "shop-global.global-" + secret.endpoint.split("global-")[1]
    assert "s3cret" not in repr(secret)
    assert "s3cret" not in "".join(str(r) for r in stack.run.records("aws-calls.jsonl"))


def test_cut_replication_is_refused_on_aws(stack: Any) -> None:
    with pytest.raises(FaultRefused, match=r"^cut_replication is not available on AWS"):
        stack.driver().cut_replication(WEST)
