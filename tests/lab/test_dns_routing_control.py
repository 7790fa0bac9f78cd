"""The lab's Route 53 ARC routing controls without a lab: the lab's DNS part alone (its real DNS server on
127.0.0.1, its HTTP checks pointed at a port nobody serves, so they never arm and stay healthy).

Turning the primary's routing control Off moves the shop's name to the secondary at once (raw DNS queries, no
threshold x interval to wait for), the revert the fault proposes and the return to the baseline turn it On again,
and a repeated or unknown state is refused with nothing changed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.lab.dns.control import lab_arn
from aftershock.lab.dns.part import LabDns
from aftershock.lab.dns.server import query
from aftershock.lab.dns.settings import DnsLabSettings

EAST, WEST = "us-east-1", "us-west-2"
SETTINGS = DnsLabSettings()
EAST_ALB, WEST_ALB = SETTINGS.alb_hosts[EAST], SETTINGS.alb_hosts[WEST]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Events(list[tuple[str, dict[str, Any]]]):
    def __call__(self, kind: str, /, **fields: Any) -> None:
        self.append((kind, fields))

    def kinds(self) -> list[str]:
        return [k for k, _ in self]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LabDns, Events]]:
    events = Events()
    part = LabDns(SETTINGS, (EAST, WEST), unused_port(), events)
    part.start()
    try:
        yield part, events
    finally:
        part.stop()  # ~1 s: one server for the module


@pytest.fixture
def dns(served: tuple[LabDns, Events]) -> Iterator[tuple[LabDns, Events]]:
    part, events = served
    events.clear()
    yield part, events
    part.restore_baseline()


def answer(part: LabDns) -> str:
    return str(query(SETTINGS.record, "A", "127.0.0.1", part.port).rr[-1].rdata)


def test_routing_control_off_moves_the_answer_at_once_and_its_revert_moves_it_back(
        dns: tuple[LabDns, Events]) -> None:
    part, events = dns
    assert answer(part) == EAST_ALB
    turn = part.handlers()["faults/routing-control"]
    sent = time.monotonic()
    done = turn({"region": EAST, "state": "Off"})
    first_west = None
    while time.monotonic() - sent < 1.0:
        if answer(part) == WEST_ALB:
            first_west = time.monotonic() - sent
            break
    # the control's check follows its state, no probing: the answer moved within one DNS round trip (< 50 ms),
    # where an inverted HTTP check takes threshold x interval (1.5 s in the lab)
    assert first_west is not None and first_west < 0.05, first_west
    assert done["revert"] == {"action": "faults/routing-control", "args": {"region": EAST, "state": "On"}}
    assert done["details"]["arn"] == lab_arn(EAST)
    kinds = events.kinds()
    assert kinds.index("arc.routing_control_updated") < kinds.index("dns.health_check_failed") \
        < kinds.index("dns.answer_changed")
    failed = next(f for k, f in events if k == "dns.health_check_failed")
    assert failed == {"check": f"rc-{EAST}", "region": EAST, "type": "RECOVERY_CONTROL",
                      "routing_control": lab_arn(EAST)}
    assert {c["region"]: c["state"] for c in part.status()["routing_controls"]} == {EAST: "Off", WEST: "On"}
    assert part.checks[EAST].healthy  # the HTTP check itself is untouched: only the control took the record out

    turn(done["revert"]["args"])
    assert answer(part) == EAST_ALB and events.kinds()[-2:] == ["dns.health_check_recovered", "dns.answer_changed"]


def test_both_controls_off_answers_the_primary_and_the_baseline_turns_them_on(dns: tuple[LabDns, Events]) -> None:
    part, _ = dns
    turn = part.handlers()["faults/routing-control"]
    turn({"region": EAST, "state": "Off"})
    turn({"region": WEST, "state": "Off"})
    assert answer(part) == EAST_ALB  # every record unhealthy: Route 53 answers with the primary
    done = part.restore_baseline()
    assert [d.split(":")[0] for d in done] == [f"ARC routing control rc-{EAST} ({EAST})",
                                              f"ARC routing control rc-{WEST} ({WEST})"]
    assert {c["state"] for c in part.status()["routing_controls"]} == {"On"}
    assert part.restore_baseline() == []


def test_a_repeated_or_unknown_state_is_refused_and_changes_nothing(dns: tuple[LabDns, Events]) -> None:
    part, events = dns
    turn = part.handlers()["faults/routing-control"]
    before = len(events)
    with pytest.raises(FaultRefused, match=f"^the routing control rc-{EAST} of {EAST} is On already$"):
        turn({"region": EAST, "state": "On"})
    with pytest.raises(FaultRefused, match=r"^routing control state 'off' is unknown: use On or Off$"):
        turn({"region": EAST, "state": "off"})
    with pytest.raises(FaultRefused, match=r"^region 'eu-west-1' has no DNS health check or record"):
        turn({"region": "eu-west-1", "state": "Off"})
    assert len(events) == before and answer(part) == EAST_ALB
