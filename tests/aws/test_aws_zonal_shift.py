"""ARC zonal shift as a remediation step: started through the Chaos Toolkit action after an AZ outage (its
fault.start carries the remediation role), journaled with its revert (cancel), cancelled by the rollback; a
shift started but never recorded is found by its comment; an active shift is refused before anything changed.

moto has no ``arc-zonal-shift``: :class:`tests.aws.conftest.AwsFakes` answers it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.journal import outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.plan import write_plan
from aftershock.core.target import dump_target
from aftershock.faults import actions
from aftershock.faults.registry import DRIVERS
from aftershock.faults.reverts import revert_outstanding
from aftershock.planning import resolve_plan

EAST, AZ = "us-east-1", "us-east-1a"
ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/0123456789abcdef"


@pytest.fixture
def shiftable(stack: Any) -> Any:
    """The stack with the east load balancer's ARN in the target (what a zonal shift moves)."""
    lbs = tuple(lb.model_copy(update={"arn": ALB}) for lb in stack.target.load_balancers)
    stack.target = stack.target.model_copy(update={"load_balancers": lbs})
    return stack


def active(stack: Any) -> list[dict[str, Any]]:
    return [z for z in stack.fakes.zonal_shifts if z["status"] == "ACTIVE"]


def test_zonal_shift_as_a_remediation_step_is_journaled_and_cancelled_by_the_rollback(
        shiftable: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = shiftable
    target_file = tmp_path / "aws-test.yaml"
    dump_target(stack.target, target_file)
    write_plan(stack.run, resolve_plan({}, experiment="az.yaml", target_ref=str(target_file)))
    monkeypatch.setitem(DRIVERS, "aws", lambda target, **_: stack.driver())
    configuration = {"aftershock_run_dir": str(stack.run.path)}

    actions.az_outage(az=AZ, configuration=configuration)
    stack.run.mark(MarkerKind.ACTIVITY_START, name="shift-away", type="action", func="start_zonal_shift",
                   role="remediation")
    result = actions.start_zonal_shift(expires_in="2h", configuration=configuration)  # az: the one down

    assert result["role"] == "remediation" and result["reverts"] == ["cancel_zonal_shift"]
    assert result["description"] == "zonal shift away from us-east-1a (us-east-1) of 1 resource(s) for 2h"
    [shift] = active(stack)
    assert (shift["resourceIdentifier"], shift["awayFrom"], shift["comment"]) == (ALB, AZ, "aftershock zonal shift")
    assert result["details"]["shifts"] == [shift["zonalShiftId"]]
    starts = [m for m in stack.run.records("markers.jsonl") if m["kind"] == "fault.start"]
    assert [(m["action"], m["role"]) for m in starts] == [("az_outage", "disruption"),
                                                           ("start_zonal_shift", "remediation")]
    call = next(r for r in stack.run.records("aws-calls.jsonl") if r.get("op") == "start_zonal_shift")
    assert call["service"] == "arc-zonal-shift" and call["params"]["expiresIn"] == "2h"

    reverted = actions.revert_faults(configuration=configuration)["reverted"]
    assert reverted[0] == f"zonal shift away from us-east-1a (us-east-1) cancelled: {shift['zonalShiftId']}"
    assert active(stack) == [] and outstanding(stack.run) == []


def test_a_shift_started_but_never_recorded_is_cancelled_by_recover(shiftable: Any) -> None:
    stack = shiftable
    stack.driver().start_zonal_shift(AZ)  # the harness dies before the fault's own journal entry
    assert [f.action for f in outstanding(stack.run)] == ["start_zonal_shift (in flight)"]
    # someone else's shift of another resource is not ours: left alone
    stack.fakes.zonal_shifts.append({"zonalShiftId": "zs-theirs", "status": "ACTIVE", "resourceIdentifier": "arn:x",
                                     "awayFrom": AZ, "comment": "ops"})
    done = revert_outstanding(stack.run, stack.driver(), by="recover")
    assert done == ["zonal shift away from us-east-1a (us-east-1) cancelled: zonalshift-1"]
    assert [z["zonalShiftId"] for z in active(stack)] == ["zs-theirs"]


def test_cancel_finds_our_shift_by_its_comment_and_is_idempotent(shiftable: Any) -> None:
    stack = shiftable
    stack.driver().start_zonal_shift(AZ)
    driver = stack.driver()
    assert driver.cancel_zonal_shift(EAST, AZ, [ALB]).description == \
        "zonal shift away from us-east-1a (us-east-1) cancelled: zonalshift-1"  # no id: found by its comment
    assert driver.cancel_zonal_shift(EAST, AZ, [ALB], ["zonalshift-1"]).description == \
        "zonal shift away from us-east-1a (us-east-1) was over already"


def test_an_active_shift_is_refused_before_anything_changed(shiftable: Any) -> None:
    stack = shiftable
    stack.fakes.zonal_shifts.append({"zonalShiftId": "zs-ops", "status": "ACTIVE", "resourceIdentifier": ALB,
                                     "awayFrom": "us-east-1b", "comment": "ops"})
    with pytest.raises(FaultRefused) as refused:
        stack.driver().start_zonal_shift(AZ)
    assert str(refused.value) == (f"start_zonal_shift: {ALB} already has an active zonal shift away from "
                                  "us-east-1b (zs-ops): cancel it first")
    assert stack.fakes.mutations() == []


def test_a_target_without_load_balancer_arns_or_a_bad_expiry_is_refused(stack: Any) -> None:
    with pytest.raises(FaultRefused) as refused:
        stack.driver().start_zonal_shift(AZ)
    assert str(refused.value) == ("start_zonal_shift: target 'aws-test' has no load balancer with an arn in "
                                  "us-east-1: add load_balancers[].arn or pass resources")
    with pytest.raises(FaultRefused) as refused:
        stack.driver().start_zonal_shift(AZ, resources=[ALB], expires_in="4d")
    assert str(refused.value) == ("start_zonal_shift: expires_in '4d' is not 1m-72h: write minutes or hours, "
                                  "e.g. '30m' or '2h'")
    assert stack.fakes.zonal_shifts == []
