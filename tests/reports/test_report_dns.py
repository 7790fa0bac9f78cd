"""The DNS-failover measurement: typed in measurements.jsonl, flat in summary.json, a section in both reports."""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.core.dns_measurement import DnsAnswerSeen, DnsFailoverMeasurement, answer_changes
from aftershock.core.figures import Figures
from aftershock.core.measurements import read_measurements, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.reports.dns import dns_sections
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun

EAST, WEST = "us-east-1", "us-west-2"
MEASURED = DnsFailoverMeasurement(
    ts=5.0, record="shop.aftershock-lab.test", to_region=WEST, fault_at=1.0, detection_s=1.46, resolved_s=1.5,
    served_s=1.62, ttl_s=2.0, requests=17,
    answers=(DnsAnswerSeen(at_s=0.0, answer="127.0.1.1", region=EAST),
             DnsAnswerSeen(at_s=1.5, answer="127.0.2.1", region=WEST)))


def test_answer_changes_keep_the_first_sighting_of_each_answer() -> None:
    seen = [DnsAnswerSeen(at_s=t, answer=a, region=r) for t, a, r in (
        (0.0, "127.0.1.1", EAST), (0.1, "127.0.1.1", EAST), (0.2, None, None), (0.3, "127.0.2.1", WEST),
        (0.4, "127.0.2.1", WEST))]
    assert [a.at_s for a in answer_changes(seen)] == [0.0, 0.2, 0.3]


def test_the_measurement_round_trips_through_the_run_folder_and_the_summary(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    record_measurement(run, MEASURED)
    figures = Figures.from_measurements(read_measurements(run))
    assert figures.dns == MEASURED
    flat = json.loads(json.dumps(figures.to_dict()))
    assert (flat["dns_resolved_s"], flat["dns_served_s"]) == (1.5, 1.62)
    assert flat["dns"]["answers"][1] == {"at_s": 1.5, "answer": "127.0.2.1", "region": WEST}
    assert Figures.from_dict(flat).dns == MEASURED.__class__.from_record({"ts": 0.0, **flat["dns"]})
    assert figures.figure("dns_served_s") == 1.62


def test_the_section_says_unknown_for_what_was_not_measured() -> None:
    unknown = DnsFailoverMeasurement(ts=0.0, record="shop.example.com", to_region=WEST, ttl_s=60.0)
    [(title, rows)] = dns_sections({"dns": unknown.fields()})
    assert title == "DNS failover of shop.example.com (seconds from the fault)"
    assert dict(rows)["detection (health check failed)"] == "unknown"
    assert dict(rows)[f"served by {WEST}"] == "no (never within the probe's time)"
    assert dns_sections({}) == []


def test_both_reports_show_the_dns_section(run_factory: MakeRun) -> None:
    run_dir = run_factory()
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["figures"]["dns"] = MEASURED.fields()
    (run_dir / "summary.json").write_text(json.dumps(summary))
    paths = write_reports(run_dir, record_history=False)
    html, markdown = paths.html.read_text(), paths.markdown.read_text()
    for text in (html, markdown):
        assert "DNS failover of shop.aftershock-lab.test" in text and "1.460 s" in text
        assert "answer seen at +1.500 s" in text and "127.0.2.1 (us-west-2)" in text
