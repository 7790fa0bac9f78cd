"""The ledger file format: round trips, runs sharing a file, half-written and broken lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.probes.ledger.record import LEDGER_FILE, LedgerRecord, Outcome, format_line, read_ledger


def line(record: LedgerRecord) -> str:
    return format_line(record.to_json())


OK = LedgerRecord("r1", 11, 1_700_000_000.123456, 1_700_000_000.125001, Outcome.OK)
DOUBT = LedgerRecord("r1", 12, 1_700_000_000.163456, None, Outcome.IN_DOUBT, "connection_lost", "server closed")


def test_round_trip_and_filter_by_run(tmp_path: Path) -> None:
    other = LedgerRecord("r2", 99, 1.0, None, Outcome.FAILED, "connect_refused")
    meta = {"kind": "meta", "version": 1, "run_id": "r1", "seq_base": 10}
    (tmp_path / LEDGER_FILE).write_text(format_line(meta) + line(OK) + line(other) + line(DOUBT))
    ledger = read_ledger(tmp_path, "r1")
    assert ledger.records == (OK, DOUBT) and ledger.skipped_lines == 0 and ledger.run_ids == ("r1",)
    assert len(read_ledger(tmp_path / LEDGER_FILE).records) == 3


def test_one_object_per_line_with_the_documented_keys() -> None:
    data = json.loads(line(DOUBT))
    assert list(data) == ["kind", "run_id", "seq", "sent_at", "acked_at", "outcome", "error", "detail"]
    assert data["outcome"] == "in_doubt" and data["acked_at"] is None


def test_half_written_last_line_is_skipped_silently(tmp_path: Path) -> None:
    whole = line(OK) + line(DOUBT)
    for cut in range(len(line(OK)), len(whole)):
        (tmp_path / LEDGER_FILE).write_text(whole[:cut])
        ledger = read_ledger(tmp_path, "r1")
        assert ledger.records == (OK,) and ledger.skipped_lines == 0


def test_broken_lines_in_the_middle_are_counted(tmp_path: Path) -> None:
    bad = '{"kind": "write", "run_id": "r1", "seq": 3}\n' + "garbage\n" + "[1, 2]\n"
    (tmp_path / LEDGER_FILE).write_text(line(OK) + bad + "\n" + '{"kind": "future"}\n' + line(DOUBT))
    ledger = read_ledger(tmp_path)
    assert ledger.records == (OK, DOUBT) and ledger.skipped_lines == 3


def test_missing_file_reads_empty(tmp_path: Path) -> None:
    assert read_ledger(tmp_path).records == ()


@pytest.mark.parametrize(("acked", "outcome"), [(None, Outcome.OK), (2.0, Outcome.IN_DOUBT), (0.5, Outcome.OK)])
def test_inconsistent_records_are_refused(acked: float | None, outcome: Outcome) -> None:
    with pytest.raises(ValueError, match="ledger record 1: acked_at"):
        LedgerRecord("r", 1, 1.0, acked, outcome)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=2**62), st.floats(min_value=1e9, max_value=2e9),
       st.floats(min_value=0, max_value=10), st.sampled_from(Outcome), st.text(max_size=30))
def test_round_trip_keeps_microseconds(seq: int, sent: float, took: float, outcome: Outcome, run: str) -> None:
    record = LedgerRecord(run, seq, sent, sent + took if outcome is Outcome.OK else None, outcome)
    back = LedgerRecord.from_json(json.loads(line(record)))
    assert (back.run_id, back.seq, back.outcome) == (run, seq, outcome)
    assert back.sent_at == pytest.approx(sent, abs=1e-6)
    assert back.acked_at is None or back.acked_at >= back.sent_at
