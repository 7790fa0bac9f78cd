"""The RTO clock starts at the disruption: the first fault action of the method; a step declared
``aftershock_role: remediation`` (a dial change after a database failover) never restarts it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aftershock.core.errors import HarnessError
from aftershock.core.runfolder import RunFolder
from aftershock.probes.recovery import measure_rto
from tests.runkit import mark_at, requests_between, write_timeline

PRECISION_S = 0.002


def config(run: RunFolder) -> dict[str, Any]:
    return {"aftershock_run_dir": str(run.path)}


def two_actions(run: RunFolder, *, remediation_role: str | None) -> float:
    """The primary database region is lost at ``fault`` (failing 0.04-1.30 s after it); the front door is
    dialled away at ``fault + 1.0``, which ends the outage 0.3 s later. Returns the disruption's time."""
    now = time.time()
    fault = now - 8
    write_timeline(run, requests_between(fault - 0.996, now, down=[(fault + 0.044, fault + 1.304)]))
    mark_at(run, fault, "fault.start", action="failover_global_database", role="disruption")
    role = {} if remediation_role is None else {"role": remediation_role}
    mark_at(run, fault + 1.0, "fault.start", action="set_traffic_dial", **role)
    return fault


def test_a_remediation_does_not_restart_the_clock(run: RunFolder) -> None:
    fault = two_actions(run, remediation_role="remediation")
    result = measure_rto(timeout_s=2, sustain_s=3, configuration=config(run))
    assert result["fault_start"] == fault
    assert result["fault_action"] == "failover_global_database"
    assert result["rto_s"] == pytest.approx(1.304, abs=PRECISION_S)  # from the disruption, not from the dial
    assert result["remediations"] == [{"at": fault + 1.0, "action": "set_traffic_dial"}]


def test_a_second_disruption_does_not_restart_the_clock_either(run: RunFolder) -> None:
    """The first fault action of the method starts the clock, whatever follows it."""
    fault = two_actions(run, remediation_role=None)
    result = measure_rto(timeout_s=2, sustain_s=3, configuration=config(run))
    assert result["fault_start"] == fault
    assert result["rto_s"] == pytest.approx(1.304, abs=PRECISION_S)
    assert result["remediations"] == []


def test_a_method_that_only_remediates_has_no_origin(run: RunFolder) -> None:
    now = time.time()
    write_timeline(run, requests_between(now - 5, now))
    mark_at(run, now - 4, "fault.start", action="set_traffic_dial", role="remediation")
    with pytest.raises(HarnessError) as err:
        measure_rto(timeout_s=0.1, configuration=config(run))
    assert str(err.value).startswith("measure_rto found no fault.start marker of a disruption")
