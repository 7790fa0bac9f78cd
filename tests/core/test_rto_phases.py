"""RTO phases: detection, failover and client recovery split [disruption, recovered] from the platform's events;
unknown boundaries leave their phases None; the summary carries them."""

from __future__ import annotations

import pytest

from aftershock.core.figures import Figures
from aftershock.core.measurements import RtoMeasurement
from aftershock.core.phases import Boundary, PlatformEvent, RtoPhases, split_phases

DETECTED, REPAIRED = Boundary.DETECTED, Boundary.REPAIRED


def test_known_phases_add_up_to_the_rto() -> None:
    events = [PlatformEvent(100.9, REPAIRED, "pod.ready old"),  # before the disruption: not this recovery
              PlatformEvent(101.25, DETECTED, "envoy eject_unhealthy 127.0.0.1:8081 in alb-a"),
              PlatformEvent(101.5, DETECTED, "db.writer_down db-a1"),
              PlatformEvent(104.0, REPAIRED, "db.promoted db-a2"),
              PlatformEvent(104.3, REPAIRED, "db.endpoint_moved db-a2"),
              PlatformEvent(113.0, REPAIRED, "pod.ready late")]  # after the recovery: not part of it
    phases = split_phases(101.0, 105.117, events, warm_at=106.0, sources=("lab events",))
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s, phases.warmup_s) == (
        0.25, 3.05, 0.817, 0.883)
    assert (phases.detected_by, phases.repaired_by) == ("envoy eject_unhealthy 127.0.0.1:8081 in alb-a",
                                                        "db.endpoint_moved db-a2")
    assert phases.known
    assert phases.detection_s + phases.failover_s + phases.client_recovery_s == pytest.approx(4.117, abs=1e-9)


def test_a_missing_boundary_leaves_its_phases_unknown() -> None:
    no_detection = split_phases(10.0, 14.0, [PlatformEvent(12.0, REPAIRED, "db.promoted b")])
    assert (no_detection.detection_s, no_detection.failover_s, no_detection.client_recovery_s) == (None, None, 2.0)
    no_repair = split_phases(10.0, 14.0, [PlatformEvent(11.0, DETECTED, "pod.died p")])
    assert (no_repair.detection_s, no_repair.failover_s, no_repair.client_recovery_s) == (1.0, None, None)
    assert not no_repair.known
    nothing = split_phases(10.0, 14.0, [], sources=())
    assert (nothing.detection_s, nothing.failover_s, nothing.client_recovery_s, nothing.warmup_s) == (
        None, None, None, None)


def test_a_repair_before_the_detection_is_not_the_failover() -> None:
    phases = split_phases(10.0, 14.0, [PlatformEvent(10.5, REPAIRED, "alb.targets_changed a"),
                                       PlatformEvent(11.0, DETECTED, "db.writer_down w")])
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (1.0, None, None)


def test_not_recovered_means_no_phase() -> None:
    phases = split_phases(10.0, None, [PlatformEvent(11.0, DETECTED, "pod.died p")], problem="")
    assert phases == RtoPhases()


def test_the_summary_carries_the_phases() -> None:
    phases = split_phases(101.0, 105.0, [PlatformEvent(101.25, DETECTED, "d"), PlatformEvent(104.0, REPAIRED, "r")],
                          sources=("lab events", "envoy health checks"))
    rto = RtoMeasurement(ts=1.0, recovered=True, rto_s=4.0, rto_error_s=0.01, fault_start=101.0, phases=phases)
    again = RtoMeasurement.from_record(rto.to_record())
    assert again.phases == phases
    summary = Figures(rto=rto).to_dict()
    assert summary["rto_phases"]["failover_s"] == 2.75
    assert summary["rto_phases"]["sources"] == ["lab events", "envoy health checks"]
    read_back = Figures.from_dict(summary).rto
    assert read_back is not None and read_back.phases == phases
    assert "rto_phases" not in Figures(rto=RtoMeasurement(ts=1.0)).to_dict()  # old runs: no phases, no key


def test_clients_that_recover_before_the_platform_finished_have_no_client_recovery() -> None:
    """Writer crash: the pods' retries reach the promoted reader (+0.35 s) before the endpoint moved (+0.43 s);
    the failover ends at the recovery, client recovery is 0, the phases still add up to the RTO."""
    events = [PlatformEvent(10.05, DETECTED, "db.writer_down a"), PlatformEvent(10.40, REPAIRED, "db.promoted b"),
              PlatformEvent(10.43, REPAIRED, "db.endpoint_moved b"), PlatformEvent(12.0, REPAIRED, "pod.ready p")]
    phases = split_phases(10.0, 10.35, events)
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.05, 0.3, 0.0)
    assert phases.known
    assert (phases.repaired_at, phases.repaired_by) == (10.40, "db.promoted b")  # the platform's own instant
    assert phases.detection_s + phases.failover_s + phases.client_recovery_s == pytest.approx(0.35, abs=1e-9)


def test_a_disruption_no_client_noticed_has_zero_phases() -> None:
    events = [PlatformEvent(10.05, DETECTED, "db.writer_down a"), PlatformEvent(10.19, REPAIRED, "db.endpoint_moved b")]
    phases = split_phases(10.0, 10.0, events)
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.0, 0.0, 0.0)
    assert (phases.detected_at, phases.repaired_at) == (10.05, 10.19)


def test_a_repair_the_clients_waited_for_wins_over_later_ones() -> None:
    events = [PlatformEvent(10.1, DETECTED, "pod.died p"), PlatformEvent(10.9, REPAIRED, "envoy eject_unhealthy h"),
              PlatformEvent(11.5, REPAIRED, "pod.ready q")]
    phases = split_phases(10.0, 11.2, events)
    assert (phases.detection_s, phases.failover_s, phases.client_recovery_s) == (0.1, 0.8, 0.3)
    assert phases.repaired_by == "envoy eject_unhealthy h"
