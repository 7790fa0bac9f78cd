"""The AWS driver's DNS faults against moto's Route 53 (botocore's Stubber where moto lacks the API):
an inverted health check and a manual failover restore the exact originals, the guardrails refuse a hosted zone
or health check outside the target, and a dry run lists every call and changes nothing; the sampler puts Route 53's
view next to the harness's own resolution (a real DNS server on 127.0.0.1 answers the name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aftershock.core.dns_sample import DnsSample
from aftershock.core.errors import FaultRefused
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import append_sample, read_samples
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.driver import Observation
from aftershock.lab.dns.records import RecordSet
from aftershock.lab.dns.server import DnsServer, free_dns_port
from aftershock.sampler import sample_of

ACCOUNT, EAST, WEST = "123456789012", "us-east-1", "us-west-2"
EAST_ALB, WEST_ALB = "east-alb-1.us-east-1.elb.amazonaws.com", "west-alb-2.us-west-2.elb.amazonaws.com"
RECORD = "shop.example.com"


def make_target(zone_id: str, checks: dict[str, str], resolver: str | None = None) -> Target:
    return parse_target({
        "name": "aws-dns", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"kind": "route53-failover", "url": f"https://{RECORD}",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}],
                       "dns": {"zone": "example.com", "record": RECORD, "ttl_s": 60, "hosted_zone_id": zone_id,
                               "answers": {EAST: EAST_ALB, WEST: WEST_ALB},
                               "health_checks": [{"region": r, "id": i} for r, i in checks.items()]}},
        "aws": {"allowed_account_ids": [ACCOUNT]},
        **({"load": {"resolver": resolver}} if resolver else {}),
    }, "aws-dns.yaml")


class Dns:
    def __init__(self) -> None:
        self.r53 = boto3.client("route53", region_name=EAST)
        self.zone = self.r53.create_hosted_zone(Name="example.com", CallerReference="z1")["HostedZone"]["Id"]
        self.other_zone = self.r53.create_hosted_zone(Name="other.com", CallerReference="z2")["HostedZone"]["Id"]
        self.checks = {region: self.r53.create_health_check(CallerReference=f"hc-{region}", HealthCheckConfig={
            "FullyQualifiedDomainName": alb, "Port": 443, "Type": "HTTPS", "ResourcePath": "/health",
            "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"]
            for region, alb in ((EAST, EAST_ALB), (WEST, WEST_ALB))}
        self.r53.change_resource_record_sets(HostedZoneId=self.zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {
                "Name": RECORD, "Type": "CNAME", "TTL": 60, "SetIdentifier": region, "Failover": role,
                "HealthCheckId": self.checks[region], "ResourceRecords": [{"Value": alb}]}}
            for region, role, alb in ((EAST, "PRIMARY", EAST_ALB), (WEST, "SECONDARY", WEST_ALB))]})

    def config(self, region: str) -> dict[str, Any]:
        return dict(self.r53.get_health_check(HealthCheckId=self.checks[region])["HealthCheck"]["HealthCheckConfig"])

    def records(self) -> list[dict[str, Any]]:
        found = self.r53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
        return sorted((r for r in found if r.get("Failover")), key=lambda r: r["SetIdentifier"])

    def roles(self) -> dict[str, str]:
        return {r["SetIdentifier"]: r["Failover"] for r in self.records()}


@pytest.fixture
def dns(aws_env: str) -> Iterator[Dns]:
    yield Dns()


def driver_for(target: Target, tmp_path: Path, *, dry_run: bool = False) -> AwsDriver:
    return AwsDriver(target, run=RunFolder.create(tmp_path, "dns"), dry_run=dry_run)


def test_an_inverted_health_check_is_restored_to_the_exact_original(dns: Dns, tmp_path: Path) -> None:
    before, west = dns.config(EAST), dns.config(WEST)
    assert before["Inverted"] is False
    driver = driver_for(make_target(dns.zone, dns.checks), tmp_path)
    try:
        outcome = driver.set_dns_health_check(EAST)
        assert dns.config(EAST) == {**before, "Inverted": True} and dns.config(WEST) == west
        with pytest.raises(FaultRefused, match="is already inverted: revert it first"):
            driver.set_dns_health_check(EAST)
        for call in outcome.reverts:
            getattr(driver, call.method)(**call.args)
        assert dns.config(EAST) == before
        again = [getattr(driver, c.method)(**c.args).description for c in outcome.reverts]  # idempotent
        assert again == [f"health check {dns.checks[EAST]} already has Inverted=False"]
    finally:
        driver.close()


def test_a_manual_failover_swaps_the_records_and_the_revert_restores_them_exactly(dns: Dns, tmp_path: Path) -> None:
    before = dns.records()
    driver = driver_for(make_target(dns.zone, dns.checks), tmp_path)
    try:
        outcome = driver.set_dns_primary(WEST)
        assert dns.roles() == {EAST: "SECONDARY", WEST: "PRIMARY"}
        assert outcome.description == f"failover record {RECORD}: PRIMARY {EAST} -> {WEST}"
        for call in outcome.reverts:
            getattr(driver, call.method)(**call.args)
        assert dns.records() == before
    finally:
        driver.close()


def test_guardrails_refuse_a_zone_or_check_outside_the_target(dns: Dns, tmp_path: Path) -> None:
    before_records, before_check = dns.records(), dns.config(EAST)
    stranger = driver_for(make_target(dns.other_zone, dns.checks), tmp_path)
    unlisted = driver_for(make_target(dns.zone, {WEST: dns.checks[WEST]}), tmp_path)
    try:
        with pytest.raises(FaultRefused, match=rf"^refused: hosted zone {dns.other_zone} is other.com, not the "
                                               r"target's zone example.com: fix front_door.dns.hosted_zone_id$"):
            stranger.set_dns_primary(WEST)
        with pytest.raises(FaultRefused, match=f"lists no DNS health check for {EAST}"):
            unlisted.set_dns_health_check(EAST)
        with pytest.raises(FaultRefused, match=rf"^refused: health check {dns.checks[EAST]} is not in "):
            unlisted.restore_dns_health_check(dns.checks[EAST], True)
        assert dns.records() == before_records and dns.config(EAST) == before_check
    finally:
        stranger.close()
        unlisted.close()


def test_a_dry_run_lists_every_call_and_changes_nothing(dns: Dns, tmp_path: Path) -> None:
    before_records, before_check = dns.records(), dns.config(EAST)
    driver = driver_for(make_target(dns.zone, dns.checks), tmp_path, dry_run=True)
    try:
        driver.set_dns_health_check(EAST)
        driver.set_dns_primary(WEST)
        listed = [(c.operation, c.mutating) for c in driver.calls.planned if c.service == "route53"]
        assert listed == [("get_health_check", False), ("update_health_check", True),
                          ("get_hosted_zone", False), ("list_resource_record_sets", False),
                          ("change_resource_record_sets", True)]
        assert dns.records() == before_records and dns.config(EAST) == before_check
    finally:
        driver.close()


def test_route53_view_puts_checkers_and_test_dns_answer_side_by_side(dns: Dns, tmp_path: Path) -> None:
    driver = driver_for(make_target(dns.zone, dns.checks), tmp_path)
    client = driver.sessions.client("route53", EAST)
    try:
        with Stubber(client) as stub:  # moto has neither get_health_check_status observations nor test_dns_answer
            ok, bad = {"Status": "Success: HTTP Status Code 200", "CheckedTime": "2026-01-01T00:00:00Z"}, \
                      {"Status": "Failure: HTTP Status Code 503", "CheckedTime": "2026-01-01T00:00:00Z"}
            stub_config(stub, dns, EAST)
            stub.add_response("get_health_check_status", {"HealthCheckObservations": [
                {"Region": "us-east-1", "IPAddress": "1.1.1.1", "StatusReport": bad},
                {"Region": "eu-west-1", "IPAddress": "1.1.1.2", "StatusReport": bad},
                {"Region": "us-west-1", "IPAddress": "1.1.1.3", "StatusReport": ok},
                {"Region": "sa-east-1", "IPAddress": "1.1.1.4", "StatusReport": bad}]},
                {"HealthCheckId": dns.checks[EAST]})
            stub_config(stub, dns, WEST)
            stub.add_response("get_health_check_status", {"HealthCheckObservations": [
                {"Region": "us-east-1", "IPAddress": "1.1.1.1", "StatusReport": ok}]},
                {"HealthCheckId": dns.checks[WEST]})
            stub.add_response("test_dns_answer", {
                "Nameserver": "ns-1.awsdns-01.org", "RecordName": RECORD, "RecordType": "CNAME",
                "RecordData": [WEST_ALB], "ResponseCode": "NOERROR", "Protocol": "UDP"},
                {"HostedZoneId": dns.zone, "RecordName": RECORD, "RecordType": "A"})
            view = driver.route53.view()
        # 25 % of the checkers see the east healthy: more than 18 %, so Route 53 still counts it healthy
        assert view == {"healthy_share": {EAST: 0.25, WEST: 1.0}, "healthy": {EAST: True, WEST: True},
                        "routing_controls": {}, "route53_answer": [WEST_ALB], "route53_region": WEST, "errors": []}
    finally:
        driver.close()


def stub_config(stub: Stubber, dns: Dns, region: str) -> None:
    """get_health_check as moto answers it (the Stubber replaces the whole client)."""
    stub.add_response("get_health_check", {"HealthCheck": {
        "Id": dns.checks[region], "CallerReference": f"hc-{region}", "HealthCheckVersion": 1,
        "HealthCheckConfig": {"Type": "HTTPS", "Inverted": False}}}, {"HealthCheckId": dns.checks[region]})


def stub_view(stub: Stubber, dns: Dns, east_ok: bool) -> None:
    status = {"Status": "Success: HTTP Status Code 200" if east_ok else "Failure: HTTP Status Code 503",
              "CheckedTime": "2026-01-01T00:00:00Z"}
    for region in (EAST, WEST):
        stub_config(stub, dns, region)
        stub.add_response("get_health_check_status", {"HealthCheckObservations": [
            {"Region": "us-east-1", "IPAddress": "1.1.1.1", "StatusReport": status if region == EAST else {
                "Status": "Success: HTTP Status Code 200", "CheckedTime": "2026-01-01T00:00:00Z"}}]},
            {"HealthCheckId": dns.checks[region]})
    stub.add_response("test_dns_answer", {
        "Nameserver": "ns-1.awsdns-01.org", "RecordName": RECORD, "RecordType": "CNAME",
        "RecordData": [EAST_ALB if east_ok else WEST_ALB], "ResponseCode": "NOERROR", "Protocol": "UDP"},
        {"HostedZoneId": dns.zone, "RecordName": RECORD, "RecordType": "A"})


@pytest.fixture
def resolver() -> Iterator[str]:
    """A real DNS server on 127.0.0.1 answering the shop's name as a CNAME to the east ALB (still cached there)."""
    records = {f"{RECORD}.": RecordSet(name=RECORD, type="CNAME", ttl_s=60, values=(EAST_ALB,)),
               f"{EAST_ALB}.": RecordSet(name=EAST_ALB, type="A", ttl_s=60, values=("127.0.0.9",))}

    def lookup(name: str, rtype: str) -> RecordSet | None:
        found = records.get(name)
        return found if found is not None and found.type == rtype else None

    server = DnsServer(lookup, lambda name: name in records or None, free_dns_port())
    server.start()
    try:
        yield f"127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_the_sampler_records_route53_next_to_the_harness_resolution(dns: Dns, tmp_path: Path,
                                                                     resolver: str) -> None:
    driver = driver_for(make_target(dns.zone, dns.checks, resolver), tmp_path)
    client = driver.sessions.client("route53", EAST)
    run = RunFolder.create(tmp_path / "sampled", "dns")
    try:
        with Stubber(client) as stub:  # moto lacks observations and test_dns_answer
            stub_view(stub, dns, east_ok=False)
            sampled = driver.sample_dns()
            stub.add_client_error("get_health_check", "Throttling", "Rate exceeded")
            stub.add_client_error("get_health_check", "Throttling", "Rate exceeded")
            stub.add_client_error("test_dns_answer", "Throttling", "Rate exceeded")
            failed = driver.sample_dns()
    finally:
        driver.close()
    # Route 53 already answers west while the harness still resolves east: both, side by side
    assert sampled == DnsSample(resolved=("127.0.0.9",), resolved_region=EAST, route53_answer=(WEST_ALB,),
                                route53_region=WEST, healthy_share=((EAST, 0.0), (WEST, 1.0)),
                                check_healthy=((EAST, False), (WEST, True)))
    assert failed.resolved_region == EAST and failed.route53_answer == ()
    # every Route 53 call failed: each part unknown, each failure said
    assert failed.check_healthy == ((EAST, None), (WEST, None)) and failed.route53_region is None
    assert failed.error is not None and failed.error.startswith(
        f"Route 53: health check {dns.checks[EAST]}: ClientError"), failed
    assert failed.error.count("Throttling") == 3
    observation = Observation(ts=1.0, writer=None, writer_region=None, replicas=(), dials={}, azs_down=(),
                              dns=sampled)
    append_sample(run, sample_of(observation))
    assert [s.dns for s in read_samples(run)] == [sampled]
