"""The store ledgers' figures: lag from the replica watcher's lines, and one section per store from the
measurements to summary.json, the objectives and the reports."""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.core.figures import Figures
from aftershock.core.measurements import StoreRpoMeasurement
from aftershock.objectives import KNOWN
from aftershock.probes.ledger.store_readback import percentile, seen_lines
from aftershock.reports import text
from aftershock.reports.history import FIGURES


def test_percentile_is_nearest_rank_and_unknown_when_empty() -> None:
    assert percentile([], 50) is None
    assert percentile([0.3, 0.1, 0.2], 50) == 0.2
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0


def test_seen_lines_keep_the_first_sighting_of_the_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger-s3.jsonl"
    lines = [{"kind": "seen", "run_id": "r1", "seq": 1, "absent_at": 10.0, "seen_at": 10.2},
             {"kind": "seen", "run_id": "r1", "seq": 1, "absent_at": 10.3, "seen_at": 10.4},
             {"kind": "seen", "run_id": "r2", "seq": 2, "absent_at": 1.0, "seen_at": 2.0},
             {"kind": "write", "run_id": "r1", "seq": 3}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + "{broken\n")
    assert seen_lines(path, "r1") == {1: (10.0, 10.2)}


def test_each_store_has_its_own_figures_objectives_history_columns_and_report_section() -> None:
    dynamo = StoreRpoMeasurement(ts=1.0, store="dynamodb", region="us-west-2", attempted=60, acknowledged=58,
                                 kept=8, lost=50, in_doubt=2, rpo_s=2.04, lag_samples=8, lag_p50_s=0.06,
                                 lag_p99_s=0.09, lag_max_s=0.09, lag_resolution_s=0.05)
    s3 = StoreRpoMeasurement(ts=2.0, store="s3", region="us-west-2", attempted=30, acknowledged=30, kept=30)
    data = Figures.from_measurements([dynamo, s3]).to_dict()
    assert (data["dynamodb_rpo_s"], data["dynamodb_lost"], data["s3_rpo_s"], data["s3_lost"]) == (2.04, 50, 0.0, 0)
    assert Figures.from_dict(json.loads(json.dumps(data))).stores == (dynamo.__class__(**{**dynamo.__dict__,
                                                                                         "ts": 0.0}),
                                                                      s3.__class__(**{**s3.__dict__, "ts": 0.0}))
    assert {"dynamodb_rpo_s", "dynamodb_lost", "s3_rpo_s", "s3_lost"} <= KNOWN & set(FIGURES)
    sections = dict(text.store_sections(data))
    rows = dict(sections["DynamoDB global table ledger (read back from us-west-2)"])
    assert rows["lost (acknowledged, not found)"] == "50" and rows["replication lag p99 (s)"] == "0.09"
    assert dict(sections["S3 replicated bucket ledger (read back from us-west-2)"])["replication lag p50 (s)"] == (
        "unknown")
