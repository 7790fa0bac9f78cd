"""RTO phases on AWS: RDS events (``describe_events``, answered by botocore's Stubber: moto records no failover
events and ignores the time window and ``Marker``), ALB target health and GA endpoint health from the run's
samples. No moto, no lab: each test builds its driver in milliseconds."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from aftershock.core.errors import HarnessError
from aftershock.core.phases import Boundary, split_phases
from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import SAMPLES_FILE, Sample, append_sample, read_samples, read_samples_between
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.health_events import alb_events, ga_events
from aftershock.faults.aws.pods import KubeClients
from aftershock.faults.aws.rds_events import MAX_PAGES, boundary_of
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.phases import PlatformEventSource

EAST, WEST = "us-east-1", "us-west-2"
T0 = 1_790_000_000.0  # the disruption (epoch s)
DETECTED, REPAIRED = Boundary.DETECTED, Boundary.REPAIRED
ALL_SOURCES = ("rds-events", "alb-target-health", "ga-endpoint-health")


def _target(*, database: bool = True, alb: bool = True, front_door: str = "global-accelerator") -> Target:
    data: dict[str, Any] = {
        "name": "aws-phases", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a", f"{EAST}b"]},
                    {"name": WEST, "role": "secondary", "azs": [f"{WEST}a"]}],
        "front_door": {"kind": front_door, "url": "https://shop.example.com",
                       **({"dns": {"zone": "example.com", "record": "shop.example.com",
                                   "answers": {EAST: "alb-east.example.com", WEST: "alb-west.example.com"}}}
                          if front_door == "route53-failover" else {}),
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb-east"},
                                           {"region": WEST, "traffic_dial": 0, "load_balancer": "alb-west"}]},
        "load_balancers": [{"name": "alb-east", "region": EAST,
                            **({"target_group_arn": "arn:aws:elasticloadbalancing:tg/shop"} if alb else {})}],
        "deployments": [{"name": "shop", "region": EAST, "replicas": 3}],
        "aws": {"allowed_account_ids": ["123456789012"]},
    }
    if database:
        data["database"] = {"global_cluster": "shop-global", "clusters": [
            {"name": "shop-east", "region": EAST, "role": "primary",
             "instances": [{"name": "east-1", "az": f"{EAST}a", "role": "writer"},
                           {"name": "east-2", "az": f"{EAST}b", "role": "reader"}]},
            {"name": "shop-west", "region": WEST, "role": "secondary",
             "instances": [{"name": "west-1", "az": f"{WEST}a", "role": "reader"}]}]}
    return parse_target(data, "aws-phases.yaml")


@functools.cache
def _botocore() -> Any:
    return botocore.session.Session()  # one for the module: the RDS model is loaded once


class StubbedSessions:
    """The driver's sessions seam: one real botocore RDS client per region, answered by a Stubber."""

    def __init__(self) -> None:
        core = _botocore()
        self.clients = {region: core.create_client("rds", region_name=region, aws_access_key_id="testing",
                                                   aws_secret_access_key="testing") for region in (EAST, WEST)}
        self.stubs = {region: Stubber(client) for region, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def client(self, service: str, region: str) -> Any:
        assert service == "rds", f"only RDS is read for the phases, not {service}"
        return self.clients[region]

    def close(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def _event(source: str, kind: str, at: float, message: str) -> dict[str, Any]:
    return {"SourceIdentifier": source, "SourceType": kind, "Message": message, "EventCategories": ["failover"],
            "Date": datetime.fromtimestamp(at, UTC)}


def _expect(sessions: StubbedSessions, region: str, kind: str, events: list[dict[str, Any]], *,
            since: float, until: float, marker: str | None = None, next_marker: str | None = None) -> None:
    params = {"SourceType": kind, "MaxRecords": 100, "StartTime": datetime.fromtimestamp(int(since) - 1, UTC),
              "EndTime": datetime.fromtimestamp(int(until) + 2, UTC), **({"Marker": marker} if marker else {})}
    answer = {"Events": events, **({"Marker": next_marker} if next_marker else {})}
    sessions.stubs[region].add_response("describe_events", answer, params)


def _driver(tmp_path: Path, target: Target, sessions: Any) -> AwsDriver:
    return AwsDriver(target, run=RunFolder(tmp_path), sessions=sessions, kube=KubeClients(None))


def _alb(**states: int) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """alb-east's targets per health state (``unhealthy=1``)."""
    return (("alb-east", tuple(sorted(states.items()))),)


def _samples(run: RunFolder, states: list[tuple[float, dict[str, int], bool]]) -> None:
    """One sample per ``(offset from T0, alb-east's targets per state, GA endpoints of east healthy)``."""
    for offset, targets, east_ok in states:
        append_sample(run, Sample(ts=T0 + offset, dials=((EAST, 100), (WEST, 0)), alb_target_states=_alb(**targets),
                                  endpoints_healthy=((EAST, east_ok), (WEST, True))))


HEALTHY = [(offset, {"healthy": 3}, True) for offset in (-1.0, -0.5, 0.0, 0.5, 5.0, 10.0, 14.0, 16.0)]


def test_a_writer_crash_on_aws_splits_into_known_phases_from_rds_events(tmp_path: Path) -> None:
    """RDS: failover started +0.8 s, completed +12.0 s, cluster DNS updated +13.2 s; the clients recovered +14.1 s.
    Events of other clusters, events marking nothing and events outside the window are left out; the
    db-cluster answer comes in two pages (``Marker``)."""
    until = T0 + 16.0
    sessions = StubbedSessions()
    _expect(sessions, EAST, "db-cluster", [
        _event("shop-east", "db-cluster", T0 - 30, "Completed failover to DB instance: east-1"),  # an earlier one
        _event("shop-east", "db-cluster", T0 + 0.8, "Started cross AZ failover to DB instance: east-2"),
        _event("other-db", "db-cluster", T0 + 1.0, "Started cross AZ failover to DB instance: other-2"),
    ], since=T0, until=until, next_marker="page-2")
    _expect(sessions, EAST, "db-cluster", [
        _event("shop-east", "db-cluster", T0 + 12.0, "Completed failover to DB instance: east-2"),
        _event("shop-east", "db-cluster", until + 0.5, "Completed failover to DB instance: east-1"),  # after
    ], since=T0, until=until, marker="page-2")
    _expect(sessions, EAST, "db-instance", [
        _event("east-1", "db-instance", T0 + 2.0, "DB instance restarted."),  # marks nothing
        _event("east-2", "db-instance", T0 + 13.2, "Cluster topology is updated."),
    ], since=T0, until=until)
    _expect(sessions, WEST, "db-cluster", [], since=T0, until=until)
    _expect(sessions, WEST, "db-instance", [], since=T0, until=until)
    driver = _driver(tmp_path, _target(), sessions)
    _samples(driver.calls.run, HEALTHY)  # type: ignore[arg-type]
    assert isinstance(driver, PlatformEventSource)

    events, sources = driver.platform_events(T0, until)
    sessions.close()
    assert sources == ALL_SOURCES
    assert [(round(e.ts - T0, 3), e.boundary) for e in events] == [(0.8, DETECTED), (12.0, REPAIRED),
                                                                   (13.2, REPAIRED)]
    assert events[0].what == ("rds shop-east: Started cross AZ failover to DB instance: east-2 (RDS-EVENT-0073)")
    phases = split_phases(T0, T0 + 14.1, events, sources=sources)
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.8, 12.4, 0.9)
    assert phases.known
    assert sum(p or 0.0 for p in (phases.detection_s, phases.failover_s, phases.client_recovery_s)) == pytest.approx(
        14.1, abs=1e-9)  # the RTO, exactly
    assert phases.repaired_by == "rds east-2: Cluster topology is updated. (RDS-EVENT-0385)"


def test_an_az_outage_on_aws_splits_from_the_sampled_alb_and_ga_health(tmp_path: Path) -> None:
    """No database: the ALB's targets in the lost AZ turn unhealthy (sampled at +4.5 s: the ALB routes to the
    two healthy ones from then on), the clients recover at +5.2 s."""
    target = _target(database=False)
    driver = _driver(tmp_path, target, StubbedSessions())
    three, two = {"healthy": 3}, {"healthy": 2, "unhealthy": 1}
    _samples(driver.calls.run, [(-0.5, three, True), (0.0, three, True), (4.0, three, True),  # type: ignore[arg-type]
                                (4.5, two, True), (9.0, {"healthy": 2, "initial": 1}, True), (30.0, three, True)])
    events, sources = driver.platform_events(T0, T0 + 10.0)
    assert sources == ("alb-target-health", "ga-endpoint-health")
    assert [(e.ts - T0, e.boundary) for e in events] == [(4.5, DETECTED), (4.5, REPAIRED)]
    assert events[0].what == "alb alb-east: target(s) unhealthy (2 healthy, 1 unhealthy; 3 healthy 0.50 s before)"
    phases = split_phases(T0, T0 + 5.2, events, sources=sources)
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (4.5, 0.0, 0.7)
    assert phases.known and phases.repaired_by.startswith("alb alb-east: traffic only to the healthy target(s)")


def test_alb_transitions_mark_detection_and_repair() -> None:
    def sample(ts: float, **states: int) -> Sample:
        return Sample(ts=ts, alb_target_states=_alb(**states))

    samples = [sample(1.0, healthy=3), Sample(ts=1.5, error="TimeoutError: read timed out"), sample(2.0, unhealthy=3),
               sample(3.0, unhealthy=3), sample(4.0, healthy=1, unhealthy=2), sample(5.0, healthy=3),
               sample(6.0, healthy=2, draining=1), sample(7.0, healthy=2), sample(8.0, healthy=2, initial=2),
               sample(9.0, healthy=4)]
    found = [(e.ts, e.boundary, e.what.removeprefix("alb alb-east: ")) for e in alb_events(samples)]
    assert found == [
        # none healthy: the load balancer fails open, nothing moved; the error sample is skipped (gap 1.00 s)
        (2.0, DETECTED, "target(s) unhealthy (3 unhealthy; 3 healthy 1.00 s before)"),
        (4.0, REPAIRED, "target(s) healthy (1 healthy, 2 unhealthy; 3 unhealthy 1.00 s before)"),
        (5.0, REPAIRED, "target(s) healthy (3 healthy; 1 healthy, 2 unhealthy 1.00 s before)"),
        # a pod's target deregistered: noticed, and traffic goes to the two left
        (6.0, DETECTED, "target(s) deregistered (draining) (2 healthy, 1 draining; 3 healthy 1.00 s before)"),
        (6.0, REPAIRED, "traffic only to the healthy target(s) (2 healthy, 1 draining; 3 healthy 1.00 s before)"),
        # its draining ends (7.0) and new targets register (8.0): no harm; they turn healthy: repaired
        (9.0, REPAIRED, "target(s) healthy (4 healthy; 2 healthy, 2 initial 1.00 s before)")]
    gone = alb_events([sample(1.0, healthy=3), sample(2.0, healthy=2)])
    assert [(e.boundary, e.what.removeprefix("alb alb-east: ")) for e in gone] == [
        (DETECTED, "healthy target(s) gone (2 healthy; 3 healthy 1.00 s before)"),
        (REPAIRED, "traffic only to the healthy target(s) (2 healthy; 3 healthy 1.00 s before)")]


def test_ga_transitions_mark_traffic_moved_only_to_a_region_taking_traffic() -> None:
    def sample(ts: float, east: bool, west: bool, west_dial: int) -> Sample:
        return Sample(ts=ts, dials=((EAST, 100), (WEST, west_dial)), endpoints_healthy=((EAST, east), (WEST, west)))

    moved = ga_events([sample(1.0, True, True, 100), sample(2.0, False, True, 100), sample(3.0, True, True, 100)])
    assert [(e.ts, e.boundary, e.what) for e in moved] == [
        (2.0, DETECTED, f"ga {EAST}: endpoint(s) unhealthy (1.00 s after the last sample)"),
        (2.0, REPAIRED, f"ga {EAST}: traffic moved to {WEST} (1.00 s after the last sample)"),
        (3.0, REPAIRED, f"ga {EAST}: endpoints healthy (1.00 s after the last sample)")]
    dial_zero = ga_events([sample(1.0, True, True, 0), sample(2.5, False, True, 0)])
    assert [(e.ts, e.boundary) for e in dial_zero] == [(2.5, DETECTED)]  # the other region takes no traffic
    assert ga_events([sample(1.0, False, True, 100)]) == []  # the first sample has nothing to compare with


def test_rds_messages_map_to_their_documented_boundaries() -> None:
    cases = {
        "Started same AZ failover to DB instance: db-2": (DETECTED, "RDS-EVENT-0072"),
        "Global switchover to DB cluster shop-west in Region us-west-2 started.": (DETECTED, "RDS-EVENT-0181"),
        "Attempt to block writes for DB cluster shop-east in Region us-east-1 succeeded.": (DETECTED,
                                                                                           "RDS-EVENT-0390"),
        "New primary DB cluster shop-west in Region us-west-2 was successfully promoted.": (REPAIRED,
                                                                                           "RDS-EVENT-0184"),
        "Global switchover to DB cluster shop-west in Region us-west-2 finished.": (REPAIRED, "RDS-EVENT-0185"),
        "Global switchover to DB cluster shop-west in Region us-west-2 completed.": (REPAIRED, "RDS-EVENT-0185"),
        "Global failover to DB cluster shop-west in Region us-west-2 completed.": (REPAIRED, "RDS-EVENT-0238"),
        "Aurora finished changing the DNS name that the global writer endpoint resolves to.": (REPAIRED,
                                                                                              "RDS-EVENT-0397"),
    }
    assert {message: boundary_of(message) for message in cases} == cases
    for nothing in ("Cluster failover failed, check the health of your cluster instances and try again.",
                    "Global failover to DB cluster shop-west in Region us-west-2 failed.", "DB instance shutdown."):
        assert boundary_of(nothing) is None, nothing


def test_a_failing_rds_source_raises_so_every_phase_is_unknown(tmp_path: Path) -> None:
    sessions = StubbedSessions()
    sessions.stubs[EAST].add_client_error("describe_events", "AccessDenied", "not authorized", 403)
    driver = _driver(tmp_path, _target(), sessions)
    _samples(driver.calls.run, HEALTHY)  # type: ignore[arg-type]
    with pytest.raises(HarnessError) as raised:
        driver.platform_events(T0, T0 + 16.0)
    assert raised.value.message == (
        "rds-events: describe_events (db-cluster) in us-east-1 failed (An error occurred (AccessDenied) when calling "
        "the DescribeEvents operation: not authorized): grant rds:DescribeEvents to the harness role "
        "(targets/iam-policy.json) and check the region's RDS API")
    assert raised.value.target == "aws-phases"


def test_without_samples_the_sampled_sources_did_not_answer(tmp_path: Path) -> None:
    driver = _driver(tmp_path, _target(database=False), StubbedSessions())
    with pytest.raises(HarnessError, match=r"^alb-target-health: no sample of it between "):
        driver.platform_events(T0, T0 + 10.0)
    append_sample(driver.calls.run, Sample(ts=T0 + 1.0, error="ClientError: throttled"))  # type: ignore[arg-type]
    with pytest.raises(HarnessError, match=r"\(the sampler did not run or every observation failed\): its phases "
                                           r"are unknown$"):
        driver.platform_events(T0, T0 + 10.0)


def test_the_rds_pages_are_bounded(tmp_path: Path) -> None:
    sessions = StubbedSessions()
    for page in range(MAX_PAGES):
        _expect(sessions, EAST, "db-cluster", [], since=T0, until=T0 + 5, marker=f"m{page}" if page else None,
                next_marker=f"m{page + 1}")
    driver = _driver(tmp_path, _target(alb=False, front_door="route53-failover"), sessions)
    with pytest.raises(HarnessError, match=rf"^rds-events: more than {MAX_PAGES * 100} db-cluster events in "
                                           rf"us-east-1 between "):
        driver.platform_events(T0, T0 + 5)
    sessions.stubs[EAST].assert_no_pending_responses()


def test_a_target_offering_no_source_asks_nothing(tmp_path: Path) -> None:
    driver = _driver(tmp_path, _target(database=False, alb=False, front_door="route53-failover"), StubbedSessions())
    assert driver.platform_events(T0, T0 + 5) == ((), ())


def test_samples_keep_alb_and_ga_health_and_old_files_still_load(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    new = Sample(ts=T0, alb_target_states=_alb(healthy=2, unhealthy=1), endpoints_healthy=((EAST, False), (WEST, True)))
    lab = Sample(ts=T0 + 1, writer="db-a1", healthy=True)
    append_sample(run, new)
    append_sample(run, lab)
    old = {"ts": T0 + 2, "writer": "db-a1", "writer_region": EAST, "replicas": {}, "dials": {}, "azs_down": [],
           "healthy": True, "replication_lag_s": {}, "replication_lag_bytes": {}}  # written before the new keys
    broken = {**old, "ts": T0 + 3, "alb_target_states": ["not", "a", "map"],
              "ga_endpoints_healthy": ["not", "a", "map"]}
    with run.file(SAMPLES_FILE).open("a") as out:
        out.write(json.dumps(old) + "\n" + json.dumps(broken) + "\n")
    assert "alb_target_states" not in lab.to_record() and "ga_endpoints_healthy" not in lab.to_record()  # as before
    assert new.to_record()["alb_target_states"] == {"alb-east": {"healthy": 2, "unhealthy": 1}}
    back = read_samples(run)
    assert back[0] == new and back[1] == lab
    assert (back[2].alb_target_states, back[2].endpoints_healthy, back[2].writer) == ((), (), "db-a1")
    assert (back[3].alb_target_states, back[3].endpoints_healthy) == ((), ())  # malformed values: not observed


def test_a_window_of_samples_reads_like_the_whole_file_filtered(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    for i in range(40):
        append_sample(run, Sample(ts=T0 + i, alb_target_states=_alb(healthy=3 - i % 2)))
    with run.file(SAMPLES_FILE).open("a") as out:  # keys in another order, a broken line, a half-written one
        out.write(json.dumps({"error": "throttled", "ts": T0 + 20.5}) + "\n{not json\n" + '{"ts": ' + str(T0 + 21.5))
    window = read_samples_between(run, T0 + 10, T0 + 25)
    assert window == [s for s in read_samples(run) if T0 + 10 <= s.ts <= T0 + 25]
    assert [s.ts - T0 for s in window] == [*range(10, 26), 20.5]  # in file order; the error sample kept
    assert read_samples_between(RunFolder(tmp_path / "none"), T0, T0 + 1) == []
