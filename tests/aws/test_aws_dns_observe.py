"""The AWS sampler's view of a DNS front door: Route 53's status of each health check (more than 18 % of the
checkers healthy, ``Inverted`` / ``Disabled`` applied) and each ARC routing control's state, per sample; a call
that fails leaves that part unknown (None) and says why; a dry run lists every read.

moto serves the health checks' configuration (the driver's own ``update_health_check`` inverts them); moto's
``get_health_check_status`` always answers one Success, so the checkers' reports and ``test_dns_answer`` (not in
moto) come from a small fake hooked into the driver's Route 53 client (botocore ``before-call``); the routing
controls live on the fake ARC cluster of tests/arckit.py (five HTTP endpoints on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from aftershock.core.resolver import StubResolver
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import append_sample, read_samples
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.dns_observe import HEALTHY_SHARE, checker_share, route53_healthy
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.driver import Observation
from aftershock.sampler import sample_of
from tests.arckit import ACCOUNT, FakeArcCluster, control_arn

EAST, WEST = "us-east-1", "us-west-2"
EAST_ALB, WEST_ALB = "east-alb-1.us-east-1.elb.amazonaws.com", "west-alb-2.us-west-2.elb.amazonaws.com"
RECORD = "shop.example.com"
EAST_RC, WEST_RC = control_arn("east"), control_arn("west")


@dataclass
class FakeCheckers:
    """Route 53's checkers per health check id: how many report Success and how many Failure; ``failing``: the
    check ids whose status call fails (Throttling); ``answer``: what ``test_dns_answer`` returns."""

    reports: dict[str, tuple[int, int]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    answer: str = EAST_ALB

    def hook(self, client: Any) -> None:
        client.meta.events.register("before-call.route53.GetHealthCheckStatus", self._status)
        client.meta.events.register("before-call.route53.TestDNSAnswer", self._answer)

    def _status(self, params: dict[str, Any], **_: Any) -> Any:
        check = params["url_path"].split("/")[-2]  # /2013-04-01/healthcheck/{id}/status
        if check in self.failing:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "GetHealthCheckStatus")
        ok, bad = self.reports[check]
        observations = [{"Region": EAST, "IPAddress": f"15.177.0.{i}", "StatusReport": {
            "Status": "Success: HTTP Status Code 200" if i < ok else "Failure: HTTP Status Code 503"}}
            for i in range(ok + bad)]
        return AWSResponse("https://fake", 200, {}, None), {"HealthCheckObservations": observations}

    def _answer(self, **_: Any) -> Any:
        return AWSResponse("https://fake", 200, {}, None), {
            "Nameserver": "ns-1.awsdns-01.org", "RecordName": RECORD, "RecordType": "CNAME",
            "RecordData": [self.answer], "ResponseCode": "NOERROR", "Protocol": "UDP"}


def make_target(zone: str, checks: dict[str, str], cluster: FakeArcCluster | None) -> Target:
    dns: dict[str, Any] = {"zone": "example.com", "record": RECORD, "ttl_s": 60, "hosted_zone_id": zone,
                           "answers": {EAST: EAST_ALB, WEST: WEST_ALB},
                           "health_checks": [{"region": r, "id": i} for r, i in checks.items()]}
    if cluster is not None:
        dns |= {"routing_controls": [{"region": EAST, "arn": EAST_RC}, {"region": WEST, "arn": WEST_RC}],
                "cluster_endpoints": cluster.described()}
    return parse_target({
        "name": "aws-dns-observe", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"kind": "route53-failover", "url": f"https://{RECORD}",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}],
                       "dns": dns},
        "aws": {"allowed_account_ids": [ACCOUNT]}}, "aws-dns-observe.yaml")


@dataclass
class Route53Stack:
    zone: str
    checks: dict[str, str]


@pytest.fixture
def route53(aws_env: str) -> Route53Stack:
    r53 = boto3.client("route53", region_name=EAST)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z1")["HostedZone"]["Id"]
    checks = {region: r53.create_health_check(CallerReference=f"hc-{region}", HealthCheckConfig={
        "FullyQualifiedDomainName": alb, "Port": 443, "Type": "HTTPS", "ResourcePath": "/health",
        "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"] for region, alb in ((EAST, EAST_ALB),
                                                                                              (WEST, WEST_ALB))}
    return Route53Stack(zone, checks)


@pytest.fixture
def cluster(aws_env: str) -> Iterator[FakeArcCluster]:
    fake = FakeArcCluster({EAST_RC: "On", WEST_RC: "On"}).start()
    yield fake
    fake.stop()


def driver_with(target: Target, tmp_path: Path, checkers: FakeCheckers, **options: Any) -> AwsDriver:
    driver = AwsDriver(target, run=RunFolder.create(tmp_path, "dns-observe"), **options)
    checkers.hook(driver.sessions.client("route53", EAST))
    return driver


def test_the_18_percent_rule_with_inverted_and_disabled_checks() -> None:
    https = {"Type": "HTTPS"}
    # Route 53: healthy when MORE than 18 % of the checkers report healthy
    assert route53_healthy(HEALTHY_SHARE, https) is False and route53_healthy(0.181, https) is True
    assert route53_healthy(0.0, https) is False and route53_healthy(1.0, https) is True
    assert route53_healthy(1.0, {**https, "Inverted": True}) is False  # inverted on top of the checkers' verdict
    assert route53_healthy(0.0, {**https, "Inverted": True}) is True
    assert route53_healthy(None, {**https, "Disabled": True}) is True  # disabled: always healthy...
    assert route53_healthy(None, {**https, "Disabled": True, "Inverted": True}) is False  # ...unless inverted
    assert route53_healthy(None, https) is None  # no checker reported: unknown
    assert route53_healthy(1.0, {"Type": "CALCULATED"}) is None  # no checker reports to count
    assert checker_share([{"StatusReport": {"Status": "Success: HTTP Status Code 200"}},
                          {"StatusReport": {"Status": "Failure: HTTP Status Code 503"}}] * 2
                         + [{"StatusReport": {"Status": "Failure: Connection timed out"}}]) == 0.4
    assert checker_share([]) is None


def test_the_sample_holds_each_checks_status_healthy_and_unhealthy(route53: Route53Stack, tmp_path: Path) -> None:
    # east: 2 of 8 checkers healthy (25 % > 18 %): healthy; west: 1 of 8 (12.5 %): unhealthy
    checkers = FakeCheckers({route53.checks[EAST]: (2, 6), route53.checks[WEST]: (1, 7)})
    driver = driver_with(make_target(route53.zone, route53.checks, None), tmp_path, checkers)
    try:
        before = driver.route53.view()
        checkers.reports[route53.checks[EAST]] = (8, 0)
        driver.set_dns_health_check(EAST)  # the real fault: moto's check is now Inverted
        inverted = driver.route53.view()
        driver.restore_dns_health_check(route53.checks[EAST], False)
        restored = driver.route53.view()
    finally:
        driver.close()
    assert before["healthy_share"] == {EAST: 0.25, WEST: 0.125}
    assert before["healthy"] == {EAST: True, WEST: False} and before["errors"] == []
    # every checker still sees the endpoint answer; the inverted check is unhealthy for Route 53
    assert inverted["healthy_share"][EAST] == 1.0 and inverted["healthy"][EAST] is False
    assert restored["healthy"][EAST] is True
    assert before["route53_answer"] == [EAST_ALB] and before["route53_region"] == EAST


def test_a_failed_call_leaves_that_part_unknown_and_says_why(route53: Route53Stack, cluster: FakeArcCluster,
                                                            tmp_path: Path) -> None:
    checkers = FakeCheckers({route53.checks[EAST]: (8, 0), route53.checks[WEST]: (8, 0)},
                            failing={route53.checks[WEST]})
    cluster.states[WEST_RC] = "Off"
    driver = driver_with(make_target(route53.zone, route53.checks, cluster), tmp_path, checkers)
    try:
        sampled = driver.route53.sample(NO_RESOLVER)
        for region in list(cluster.endpoints):
            cluster.set_mode(region, "down")  # no cluster endpoint answers: the states are unknown
        unreachable = driver.route53.sample(NO_RESOLVER)
    finally:
        driver.close()
    assert sampled.check_healthy == ((EAST, True), (WEST, None))
    assert sampled.healthy_share == ((EAST, 1.0), (WEST, None))
    assert sampled.routing_controls == ((EAST, "On"), (WEST, "Off"))
    assert sampled.route53_region == EAST
    assert sampled.error is not None
    assert f"Route 53: health check {route53.checks[WEST]} status: ClientError" in sampled.error
    assert "Throttling" in sampled.error
    assert unreachable.routing_controls == ((EAST, None), (WEST, None))
    assert unreachable.error is not None and "routing control us-east-1: HarnessError: ARC " \
        "get_routing_control_state failed at every cluster endpoint" in unreachable.error
    assert unreachable.check_healthy == sampled.check_healthy  # the rest of the sample stands


def test_the_sampler_writes_and_reads_back_the_status_and_the_states(route53: Route53Stack,
                                                                     cluster: FakeArcCluster,
                                                                     tmp_path: Path) -> None:
    checkers = FakeCheckers({route53.checks[EAST]: (0, 8), route53.checks[WEST]: (8, 0)}, answer=WEST_ALB)
    cluster.states[EAST_RC] = "Off"
    driver = driver_with(make_target(route53.zone, route53.checks, cluster), tmp_path, checkers)
    try:
        sampled = driver.route53.sample(NO_RESOLVER)
    finally:
        driver.close()
    run = RunFolder.create(tmp_path / "sampled", "dns")
    append_sample(run, sample_of(Observation(ts=1.0, writer=None, writer_region=None, replicas=(), dials={},
                                             azs_down=(), dns=sampled)))
    [back] = read_samples(run)
    assert back.dns == sampled
    assert back.dns is not None and back.dns.check_healthy == ((EAST, False), (WEST, True))
    assert back.dns.routing_controls == ((EAST, "Off"), (WEST, "On")) and back.dns.route53_region == WEST


def test_a_dry_run_lists_every_read_of_the_dns_view(route53: Route53Stack, cluster: FakeArcCluster,
                                                    tmp_path: Path) -> None:
    lines: list[str] = []
    checkers = FakeCheckers({route53.checks[EAST]: (8, 0), route53.checks[WEST]: (8, 0)})
    driver = driver_with(make_target(route53.zone, route53.checks, cluster), tmp_path, checkers, dry_run=True,
                         echo=lines.append)
    try:
        driver.route53.sample(NO_RESOLVER)
    finally:
        driver.close()
    ops = [(line.split()[3], line.split()[4].split("(")[0]) for line in lines]
    arc = ops[4][0]  # the cluster endpoint tried first (a random one, as AWS advises)
    assert arc.startswith("route53-recovery-cluster@"), ops
    assert ops == [(f"route53@{EAST}", "get_health_check"), (f"route53@{EAST}", "get_health_check_status"),
                   (f"route53@{EAST}", "get_health_check"), (f"route53@{EAST}", "get_health_check_status"),
                   (arc, "get_routing_control_state"), (ops[5][0], "get_routing_control_state"),
                   (f"route53@{EAST}", "test_dns_answer")]
    assert all(line.startswith("dry run: read ") for line in lines)
    assert f"HealthCheckId='{route53.checks[EAST]}'" in lines[1] and f"RoutingControlArn='{EAST_RC}'" in lines[4]


class _NoResolver:
    """The harness's own resolution is not what these tests look at: it fails, as with no resolver reachable."""

    def lookup(self, name: str) -> Any:
        raise OSError(f"no resolver for {name}")


NO_RESOLVER = cast(StubResolver, _NoResolver())
