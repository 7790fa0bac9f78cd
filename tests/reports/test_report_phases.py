"""report.html shows the RTO's phases as one stacked bar under the throughput chart; unknown splits stay grey."""

from __future__ import annotations

import dataclasses
import json

from aftershock.core.phases import Boundary, PlatformEvent, split_phases
from aftershock.reports.phases_chart import phase_segments
from aftershock.reports.write import write_reports
from tests.reports.reportkit import START, MakeRun


def test_unknown_boundaries_merge_into_one_unknown_segment() -> None:
    known = split_phases(10.0, 14.0, [PlatformEvent(11.0, Boundary.DETECTED, "d"),
                                      PlatformEvent(13.0, Boundary.REPAIRED, "r")], warm_at=15.0)
    assert phase_segments(known) == [("detection", 10.0, 11.0), ("failover", 11.0, 13.0),
                                     ("client recovery", 13.0, 14.0), ("warm-up", 14.0, 15.0)]
    no_detection = split_phases(10.0, 14.0, [PlatformEvent(13.0, Boundary.REPAIRED, "r")])
    assert phase_segments(no_detection) == [("unknown (detection + failover)", 10.0, 13.0),
                                            ("client recovery", 13.0, 14.0)]
    nothing = split_phases(10.0, 14.0, [])
    assert phase_segments(nothing) == [("unknown (detection + failover + client recovery)", 10.0, 14.0)]
    assert phase_segments(split_phases(10.0, None, [])) == []


def test_the_report_draws_the_bar_under_the_throughput_chart(run_factory: MakeRun) -> None:
    run_dir = run_factory()
    summary = json.loads((run_dir / "summary.json").read_text())
    phases = split_phases(START + 6.0, START + 10.0, [PlatformEvent(START + 6.5, Boundary.DETECTED, "pod.died p1"),
                                                      PlatformEvent(START + 9.0, Boundary.REPAIRED, "pod.ready p3")],
                          warm_at=START + 11.0, sources=("lab events", "envoy health checks"))
    summary["figures"]["rto_phases"] = dataclasses.asdict(phases)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    html = write_reports(run_dir, record_history=False).html.read_text()
    assert html.index('data-chart="throughput"') < html.index('data-chart="phases"') < html.index(
        'data-chart="latency"')
    assert "<title>failover: 2.500 s</title>" in html and "<title>warm-up: 1.000 s</title>" in html


def test_a_run_without_phases_has_no_bar(run_factory: MakeRun) -> None:
    html = write_reports(run_factory(), record_history=False).html.read_text()
    assert 'data-chart="phases"' not in html


def test_a_repair_after_the_recovery_is_drawn_clipped_to_it() -> None:
    phases = split_phases(10.0, 10.35, [PlatformEvent(10.05, Boundary.DETECTED, "d"),
                                        PlatformEvent(10.43, Boundary.REPAIRED, "r")])
    assert phase_segments(phases) == [("detection", 10.0, 10.05), ("failover", 10.05, 10.35),
                                      ("client recovery", 10.35, 10.35)]
