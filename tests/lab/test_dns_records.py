"""Route 53 semantics of the lab's DNS without a lab: record selection, health-check thresholds and inversion,
zone changes, and the real DNS server answering a real stub resolver with each cache policy."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from aftershock.core.errors import FaultRefused, UsageError
from aftershock.core.resolver import StubResolver, parse_cache
from aftershock.lab.dns.health import R53_LAB, HealthCheck
from aftershock.lab.dns.records import RecordSet, Routing, select
from aftershock.lab.dns.server import DnsServer, free_dns_port, query
from aftershock.lab.dns.zone import Zone

EAST, WEST = "127.0.1.1", "127.0.2.1"


def failover_pair(ttl: float = 2.0) -> list[RecordSet]:
    return [RecordSet(name="shop.lab.test", type="A", ttl_s=ttl, values=(EAST,), routing=Routing.FAILOVER,
                      set_id="east", failover="PRIMARY", health_check="hc-east"),
            RecordSet(name="shop.lab.test", type="A", ttl_s=ttl, values=(WEST,), routing=Routing.FAILOVER,
                      set_id="west", failover="SECONDARY", health_check="hc-west")]


@pytest.mark.parametrize(("east", "west", "answer"), [
    (True, True, EAST), (False, True, WEST), (True, False, EAST),
    (False, False, EAST),  # both unhealthy: Route 53 answers with the primary
])
def test_failover_record_follows_the_health_checks(east: bool, west: bool, answer: str) -> None:
    status = {"hc-east": east, "hc-west": west}
    chosen = select(failover_pair(), status.__getitem__, random.Random(1))
    assert chosen is not None and chosen.values == (answer,)


def test_weighted_records_split_by_weight_among_the_healthy() -> None:
    records = [RecordSet(name="w.lab.test", type="A", ttl_s=1, values=(v,), routing=Routing.WEIGHTED, set_id=v,
                         weight=w, health_check=f"hc-{v}") for v, w in ((EAST, 3), (WEST, 1), ("127.0.3.1", 0))]
    rng = random.Random(7)
    healthy = {f"hc-{EAST}": True, f"hc-{WEST}": True, "hc-127.0.3.1": True}
    answers = [select(records, healthy.__getitem__, rng).values[0] for _ in range(4000)]  # type: ignore[union-attr]
    assert abs(answers.count(EAST) / 4000 - 0.75) < 0.03 and "127.0.3.1" not in answers  # weight 0: never
    healthy[f"hc-{EAST}"] = False
    assert {select(records, healthy.__getitem__, rng).values[0] for _ in range(200)} == {WEST}  # type: ignore[union-attr]
    healthy[f"hc-{WEST}"] = False  # every weighted one down: the weight-0 record answers
    assert {select(records, healthy.__getitem__, rng).values[0] for _ in range(50)} == {"127.0.3.1"}  # type: ignore[union-attr]


def test_a_bad_record_names_what_is_missing() -> None:
    with pytest.raises(UsageError, match="needs failover: PRIMARY or SECONDARY"):
        RecordSet(name="a.lab.test", type="A", ttl_s=1, values=(EAST,), routing=Routing.FAILOVER, set_id="x")
    with pytest.raises(FaultRefused, match=r"is not in zone lab\.test\.: use a name ending in lab\.test\."):
        Zone("lab.test").change(upsert=[RecordSet(name="shop.other.test", type="A", ttl_s=1, values=(EAST,))])


def test_health_check_turns_after_the_failure_threshold_and_inversion_fails_a_healthy_endpoint() -> None:
    events: list[tuple[str, dict[str, object]]] = []
    changes: list[int] = []
    check = HealthCheck("hc-east", "us-east-1", EAST, 80, R53_LAB, lambda kind, **f: events.append((kind, f)),
                        lambda: changes.append(1), probe=lambda: True)
    check.observe(False)  # before its first pass (an endpoint still starting) nothing counts
    assert check.healthy
    check.observe(True)
    for _ in range(R53_LAB.failure_threshold - 1):
        check.observe(False)
    assert check.healthy  # threshold - 1 failures: still healthy
    check.observe(True)  # a pass resets the count
    for _ in range(R53_LAB.failure_threshold):
        check.observe(False)
    assert not check.healthy and events[-1][0] == "dns.health_check_failed" and len(changes) == 1
    for _ in range(R53_LAB.failure_threshold):
        check.observe(True)
    assert check.healthy and events[-1][0] == "dns.health_check_recovered"
    assert check.set_inverted(True) is False
    for _ in range(R53_LAB.failure_threshold):
        check.observe(True)  # the endpoint passes, the inverted check reports it failing
    assert not check.healthy and events[-1][1]["inverted"] is True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served_zone() -> Iterator[tuple[Zone, str]]:
    zone = Zone("lab.test", records=[RecordSet(name="shop.lab.test", type="A", ttl_s=2, values=(EAST,)),
                                     RecordSet(name="www.lab.test", type="CNAME", ttl_s=5, values=("shop.lab.test",))])
    rng = random.Random(0)

    def lookup(name: str, rtype: str) -> RecordSet | None:
        return select(zone.record_sets(name, rtype), lambda _: True, rng)

    def known(name: str) -> bool | None:
        return bool(zone.record_sets(name)) if zone.holds(name) else None

    port = free_dns_port()
    server = DnsServer(lookup, known, port)
    server.start()
    try:
        yield zone, f"127.0.0.1:{port}"
    finally:
        server.stop()


def test_the_server_answers_with_ttl_follows_cnames_and_refuses_other_zones(served_zone: tuple[Zone, str]) -> None:
    _, server = served_zone
    host, port = server.split(":")
    reply = query("www.lab.test", "A", host, int(port))
    assert [(str(rr.rname), rr.ttl, str(rr.rdata)) for rr in reply.rr] == [
        ("www.lab.test.", 5, "shop.lab.test."), ("shop.lab.test.", 2, EAST)]
    assert query("nope.lab.test", "A", host, int(port)).header.rcode == 3  # NXDOMAIN
    assert query("example.com", "A", host, int(port)).header.rcode == 5  # REFUSED: not ours
    answer = StubResolver(server).lookup("www.lab.test")
    assert answer.addresses == (EAST,) and answer.ttl_s == 2 and answer.chain == ("shop.lab.test",)


@pytest.mark.parametrize(("cache", "after_3s", "after_20s"), [("ttl", WEST, WEST), (10.0, EAST, WEST),
                                                               ("forever", EAST, EAST)])
def test_cache_policies_keep_an_answer_as_long_as_they_say(served_zone: tuple[Zone, str], cache: object,
                                                           after_3s: str, after_20s: str) -> None:
    zone, server = served_zone
    clock = Clock()
    resolver = StubResolver(server, cache=parse_cache(cache), clock=clock)
    assert resolver.resolve("shop.lab.test").addresses == (EAST,)
    zone.change(upsert=[RecordSet(name="shop.lab.test", type="A", ttl_s=2, values=(WEST,))])
    clock.now += 1.0
    assert resolver.resolve("shop.lab.test").addresses == (EAST,)  # within the TTL every policy keeps it
    clock.now += 2.0
    assert resolver.resolve("shop.lab.test").addresses == (after_3s,)
    clock.now += 17.0
    assert resolver.resolve("shop.lab.test").addresses == (after_20s,)


def test_a_bad_cache_policy_names_the_setting() -> None:
    with pytest.raises(UsageError, match=r"^dns_cache 'sometimes' is not a cache policy: use ttl, forever or "):
        parse_cache("sometimes")
