"""Guardrails: the wrong account or region is refused before any mutating call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused, UsageError


def no_mutation_happened(stack: Any, before: dict[str, Any]) -> None:
    assert stack.snapshot() == before
    assert all(k.mutations == [] for k in stack.kube.values())
    assert stack.fakes.mutations() == []
    assert [r for r in stack.run.records("aws-calls.jsonl") if r["event"] != "planned"] == []
    assert not stack.run.file("faults.jsonl").exists()


def test_wrong_account_refuses_every_fault_before_any_change(stack: Any) -> None:
    aws = stack.target.aws.model_copy(update={"allowed_account_ids": ("999999999999",)})
    stack.target = stack.target.model_copy(update={"aws": aws})
    before = stack.snapshot()
    driver = stack.driver()
    message = ("refused: AWS account 123456789012 is not in aws.allowed_account_ids (999999999999) of target "
               "'aws-test': switch credentials (AWS_PROFILE, aws.profile or aws.role_arn) or add the account to "
               "the target file")
    faults: list[Callable[[], object]] = [
              lambda: driver.az_outage("us-east-1a"), lambda: driver.set_traffic_dial("us-east-1", 0),
              lambda: driver.crash_writer(), lambda: driver.switchover_global_database("us-west-2"),
              lambda: driver.failover_global_database("us-west-2"),
              lambda: driver.kill_pods("us-east-1", az=None, count=1, percent=None),
              lambda: driver.az_restore("us-east-1a")]
    for fault in faults:
        with pytest.raises(FaultRefused) as err:
            fault()
        assert str(err.value) == message
    no_mutation_happened(stack, before)


def test_region_outside_the_target_is_refused(stack: Any) -> None:
    before = stack.snapshot()
    driver = stack.driver()
    with pytest.raises(FaultRefused) as err:
        driver.guard.ensure("eu-west-1")
    assert str(err.value) == ("refused: region eu-west-1 is not a region of target 'aws-test' "
                              "(us-east-1, us-west-2): use one of them or add it to the target file")
    # every mutating call is checked again for its own region, whatever the fault code does
    other = stack.client("ec2", "eu-west-1")
    with pytest.raises(FaultRefused, match=r"^refused: region eu-west-1 is not a region"):
        driver.calls.write(other, "stop_instances", InstanceIds=[stack.instances["us-east-1a"]])
    with pytest.raises(UsageError, match=r"^unknown region 'eu-west-1' in target 'aws-test'"):
        driver.set_traffic_dial("eu-west-1", 0)
    no_mutation_happened(stack, before)
