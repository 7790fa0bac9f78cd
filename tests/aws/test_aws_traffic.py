"""Global Accelerator with several listeners: a dial fault changes the region's group on every listener and the
revert puts each group back to its own dial."""

from __future__ import annotations

from typing import Any

from aftershock.faults.reverts import record_injected, revert_outstanding

EAST, WEST = "us-east-1", "us-west-2"
HTTPS = "arn:aws:globalaccelerator::123456789012:accelerator/abcd/listener/0443"


def test_dial_fault_changes_every_listener_and_restores_each_group(stack: Any) -> None:
    stack.fakes.more_listeners[HTTPS] = {EAST: 90, WEST: 10}  # the listeners' dials differ before the fault
    driver = stack.driver()
    assert driver.observe().dials == {EAST: 90, WEST: 0}  # a region's dial: the lowest of its groups

    outcome = driver.set_traffic_dial(EAST, 0)
    assert stack.fakes.listeners() == {stack.fakes.group_arn(EAST).split("/endpoint-group")[0]: {EAST: 0, WEST: 0},
                                       HTTPS: {EAST: 0, WEST: 10}}
    assert outcome.description == "traffic dial of us-east-1: 90 -> 0 % on 2 listeners"
    assert outcome.reverts[0].args["groups"] == {stack.fakes.group_arn(EAST): 100,
                                                 stack.fakes.group_arn(EAST, HTTPS): 90}

    record_injected(stack.run, "set_traffic_dial", outcome, 0.0)
    assert revert_outstanding(stack.run, stack.driver(), by="rollback") == [
        "traffic dial of us-east-1: 0 -> 90 % (restored)"]
    assert stack.fakes.dials == {EAST: 100, WEST: 0} and stack.fakes.more_listeners[HTTPS] == {EAST: 90, WEST: 10}


def test_a_listener_at_another_dial_keeps_the_region_unhealthy(stack: Any) -> None:
    stack.fakes.more_listeners[HTTPS] = {EAST: 100, WEST: 0}
    driver = stack.driver()
    baseline = driver.observe()
    assert baseline.healthy, baseline
    stack.fakes.more_listeners[HTTPS][WEST] = 50  # only the second listener moved: the lowest dial is unchanged
    observation = driver.observe()
    assert observation.dials == baseline.dials == {EAST: 100, WEST: 0}
    assert observation.healthy is False
