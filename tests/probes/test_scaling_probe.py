"""The autoscaling probe on synthetic samples and timelines: time to the first scale decision, to ready
capacity and to latency back within SLO, from the load step's ``fault.start``."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aftershock.core.errors import HarnessError, TargetError
from aftershock.core.runfolder import RunFolder
from aftershock.probes.autoscaling import measure_scaling
from tests.runkit import mark_at, measurements, requests_between, write_timeline


def whole_second_step(ago_s: int = 10) -> float:
    """A step on a whole second, so the probe's 1 s latency windows start exactly at it."""
    return float(int(time.time()) - ago_s)


def samples(run: RunFolder, step: float, rows: list[tuple[float, int, int]], region: str = "us-east-1") -> None:
    """``(seconds after the step, desired, ready)`` rows, as the sampler writes them."""
    for offset, desired, ready in rows:
        run.append("samples.jsonl", {"ts": step + offset, "writer": "db-east-b",
                                     "replicas": {region: {"desired": desired, "ready": ready}}})


SCALE_OUT = [(-1.0, 3, 3), (-0.5, 3, 3), (0.0, 3, 3), (0.5, 3, 3), (1.5, 3, 3), (2.0, 6, 3), (3.0, 6, 4),
             (4.5, 6, 6), (6.0, 6, 6)]


def test_scaling_times_come_from_the_samples_and_the_timeline(run: RunFolder,
                                                              configuration: dict[str, Any]) -> None:
    step = whole_second_step()
    samples(run, step, SCALE_OUT)
    write_timeline(run, requests_between(step - 2, time.time(), slow=[(step, step + 3)], slow_ms=900.0))
    mark_at(run, step, "fault.start", action="load_spike")
    result = measure_scaling(max_p95_ms=500, timeout_s=5, sustain_s=2, configuration=configuration)
    assert result == {"region": "us-east-1", "step_at": step, "baseline_replicas": 3, "peak_desired": 6,
                      "first_scale_s": 2.0, "ready_capacity_s": 4.5, "latency_slo_s": 3.0, "max_p95_ms": 500}
    [recorded] = measurements(run, "scaling")
    assert recorded == {"ts": recorded["ts"], "kind": "scaling", **result}


def test_latency_never_breached_is_zero(run: RunFolder, configuration: dict[str, Any]) -> None:
    step = whole_second_step()
    samples(run, step, SCALE_OUT)
    write_timeline(run, requests_between(step - 2, time.time()))
    mark_at(run, step, "fault.start", action="load_spike")
    result = measure_scaling(timeout_s=5, sustain_s=2, configuration=configuration)
    assert result["latency_slo_s"] == 0.0
    assert (result["first_scale_s"], result["ready_capacity_s"]) == (2.0, 4.5)


def test_ready_capacity_needs_the_scaled_up_pods_ready(run: RunFolder, configuration: dict[str, Any]) -> None:
    """Ready == desired before the scale-up does not count; nor does a step without a scale-up."""
    step = whole_second_step()
    samples(run, step, [(-0.5, 3, 3), (1.0, 3, 3), (2.5, 5, 3), (3.0, 5, 4), (3.5, 7, 5), (5.0, 7, 7)])
    write_timeline(run, requests_between(step - 2, time.time()))
    mark_at(run, step, "fault.start", action="load_spike")
    result = measure_scaling(timeout_s=5, sustain_s=2, configuration=configuration)
    assert (result["first_scale_s"], result["ready_capacity_s"], result["peak_desired"]) == (2.5, 5.0, 7)


def test_nothing_scaled_in_time_is_none(run: RunFolder, configuration: dict[str, Any]) -> None:
    step = whole_second_step(4)
    samples(run, step, [(-0.5, 3, 3), (0.5, 3, 3), (1.0, 3, 3), (3.5, 3, 3)])
    write_timeline(run, requests_between(step - 2, time.time(), slow=[(step, time.time() + 60)]))
    mark_at(run, step, "fault.start", action="load_spike")
    started = time.monotonic()
    result = measure_scaling(timeout_s=0.6, sustain_s=2, configuration=configuration)
    assert time.monotonic() - started < 3
    assert result == {"region": "us-east-1", "step_at": step, "baseline_replicas": 3, "peak_desired": None,
                      "first_scale_s": None, "ready_capacity_s": None, "latency_slo_s": None, "max_p95_ms": 500.0}


def test_scaled_but_not_ready_in_time(run: RunFolder, configuration: dict[str, Any]) -> None:
    step = whole_second_step(4)
    samples(run, step, [(-0.5, 3, 3), (1.0, 4, 3), (3.0, 4, 3)])
    write_timeline(run, requests_between(step - 2, time.time()))
    mark_at(run, step, "fault.start", action="load_spike")
    result = measure_scaling(timeout_s=0.6, sustain_s=2, configuration=configuration)
    assert (result["first_scale_s"], result["ready_capacity_s"], result["latency_slo_s"]) == (1.0, None, 0.0)


def test_the_region_argument_picks_that_regions_replicas(run: RunFolder, configuration: dict[str, Any]) -> None:
    step = whole_second_step()
    samples(run, step, [(-0.5, 9, 9), (1.0, 9, 9)], region="us-east-1")
    samples(run, step, [(-0.5, 2, 2), (1.0, 4, 2), (2.0, 4, 4)], region="us-west-2")
    write_timeline(run, requests_between(step - 2, time.time()))
    mark_at(run, step, "fault.start", action="load_spike")
    result = measure_scaling(region="us-west-2", timeout_s=5, sustain_s=2, configuration=configuration)
    assert (result["region"], result["baseline_replicas"], result["first_scale_s"], result["ready_capacity_s"]) == (
        "us-west-2", 2, 1.0, 2.0)


def test_an_unknown_region_names_the_known_ones(run: RunFolder, configuration: dict[str, Any]) -> None:
    mark_at(run, time.time(), "fault.start")
    with pytest.raises(TargetError) as err:
        measure_scaling(region="eu-west-1", timeout_s=0.1, configuration=configuration)
    assert str(err.value) == "unknown region 'eu-west-1' in target 't': use one of us-east-1, us-west-2"


def test_without_a_load_step_the_probe_names_the_fix(configuration: dict[str, Any]) -> None:
    with pytest.raises(HarnessError) as err:
        measure_scaling(timeout_s=0.1, configuration=configuration)
    assert str(err.value) == ("measure_scaling found no fault.start marker: put it after the load_spike action")


def test_the_target_comes_from_the_run_plan(run: RunFolder) -> None:
    mark_at(run, time.time(), "fault.start")
    with pytest.raises(HarnessError) as err:
        measure_scaling(timeout_s=0.1, configuration={"aftershock_run_dir": str(run.path)})
    assert str(err.value) == (f"{run.path} has no run.json: start the run with `aftershock run` or declare the "
                              "aftershock control in the experiment")
