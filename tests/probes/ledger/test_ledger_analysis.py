"""The pure classification of a ledger against the seqs the database holds: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.probes.ledger.analysis import LOST_SEQS_SHOWN, RPO_DEFINITION, LedgerResult, classify
from aftershock.probes.ledger.record import LedgerRecord, Outcome

T0 = 1_700_000_000.0


def write(seq: int, outcome: Outcome, sent: float, ack_after: float = 0.002) -> LedgerRecord:
    acked = T0 + sent + ack_after if outcome is Outcome.OK else None
    return LedgerRecord("r", seq, T0 + sent, acked, outcome, None if outcome is Outcome.OK else "connection_lost")


def test_nothing_lost_means_rpo_zero() -> None:
    records = [write(i, Outcome.OK, i * 0.04) for i in range(1, 11)]
    result = classify(records, {r.seq for r in records}, run_id="r")
    assert (result.acknowledged, result.kept, result.lost, result.rpo_s) == (10, 10, 0, 0.0)
    assert result.first_lost_ack_at is None and result.lost_seqs == ()
    assert result.write_rate_per_s == pytest.approx(25.0)


def test_rpo_spans_from_the_last_kept_ack_before_the_loss_to_the_last_lost_ack() -> None:
    ok = Outcome.OK
    records = [write(1, ok, 0.0), write(2, ok, 1.0), write(3, ok, 2.0), write(4, Outcome.IN_DOUBT, 3.0),
               write(5, ok, 4.0), write(6, Outcome.FAILED, 5.0), write(7, ok, 6.0)]
    result = classify(records, {1, 2, 4, 7}, run_id="r")
    assert (result.kept, result.lost, result.lost_seqs) == (3, 2, (3, 5))
    assert result.rpo_s == pytest.approx((4.0 + 0.002) - (1.0 + 0.002))
    assert result.first_lost_ack_at == pytest.approx(T0 + 2.002)
    assert result.last_lost_ack_at == pytest.approx(T0 + 4.002)
    assert (result.in_doubt, result.in_doubt_present, result.in_doubt_absent) == (1, 1, 0)
    assert (result.failed_before_send, result.rejected, result.unexpected_present) == (1, 0, 0)


def test_rpo_starts_at_the_first_lost_send_when_nothing_was_kept_before() -> None:
    result = classify([write(1, Outcome.OK, 0.0, ack_after=0.5), write(2, Outcome.OK, 1.0)], {2}, run_id="r")
    assert result.lost_seqs == (1,)
    assert result.rpo_s == pytest.approx(0.5)


def test_failed_or_rejected_writes_found_present_are_flagged() -> None:
    records = [write(1, Outcome.FAILED, 0.0), write(2, Outcome.REJECTED, 1.0)]
    result = classify(records, {1, 2}, run_id="r")
    assert result.unexpected_present == 2 and result.lost == 0


def test_a_repeated_seq_is_refused() -> None:
    with pytest.raises(ValueError, match="a seq appears twice in the ledger of run 'r': give each writer its own"):
        classify([write(1, Outcome.OK, 0.0), write(1, Outcome.OK, 1.0)], set(), run_id="r")


def test_lost_seqs_show_the_first_fifty() -> None:
    records = [write(i, Outcome.OK, i * 0.01) for i in range(1, 121)]
    result = classify(records, set(), run_id="r")
    assert result.lost == 120 and result.lost_seqs == tuple(range(1, LOST_SEQS_SHOWN + 1))


def test_to_dict_is_plain_json_with_the_definition() -> None:
    data = classify([write(1, Outcome.OK, 0.0)], set(), run_id="r").to_dict()
    assert data["lost_seqs"] == [1] and data["rpo_definition"] == RPO_DEFINITION
    assert set(data) == {f for f in LedgerResult.__dataclass_fields__}


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[LedgerRecord], set[int]]:
    """Records with unique seqs, positive durations, any outcomes; and any subset of their seqs present."""
    n = draw(st.integers(min_value=0, max_value=60))
    seqs = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=n, max_size=n, unique=True))
    records = []
    for seq in seqs:
        outcome = draw(st.sampled_from(Outcome))
        sent = draw(st.floats(min_value=0.0, max_value=100.0, allow_nan=False))
        duration = draw(st.floats(min_value=1e-3, max_value=5.0, allow_nan=False))
        records.append(write(seq, outcome, sent, duration))
    present = set(draw(st.lists(st.sampled_from(seqs), unique=True))) if seqs else set()
    present |= set(draw(st.lists(st.integers(min_value=10**6 + 1, max_value=10**6 + 50), max_size=3)))
    return records, present


@settings(max_examples=300, deadline=None)
@given(ledgers())
def test_counts_add_up(ledger: tuple[list[LedgerRecord], set[int]]) -> None:
    records, present = ledger
    result = classify(records, present, run_id="r")
    assert result.kept + result.lost == result.acknowledged
    assert result.acknowledged + result.in_doubt + result.failed_before_send + result.rejected == result.attempted
    assert result.in_doubt_present + result.in_doubt_absent == result.in_doubt
    acked = {r.seq for r in records if r.outcome is Outcome.OK}
    assert result.lost == len(acked - present) and result.kept == len(acked & present)
    assert list(result.lost_seqs) == sorted(acked - present)[:LOST_SEQS_SHOWN]


@settings(max_examples=300, deadline=None)
@given(ledgers())
def test_rpo_is_zero_iff_nothing_acknowledged_was_lost(ledger: tuple[list[LedgerRecord], set[int]]) -> None:
    records, present = ledger
    result = classify(records, present, run_id="r")
    assert (result.rpo_s == 0.0) == (result.lost == 0)
    assert result.rpo_s >= 0.0
    if result.lost:
        assert result.first_lost_ack_at is not None and result.last_lost_ack_at is not None
        assert result.first_lost_ack_at <= result.last_lost_ack_at
        # the span covers every lost write's acknowledgement
        assert result.rpo_s >= result.last_lost_ack_at - result.first_lost_ack_at


@settings(max_examples=300, deadline=None)
@given(ledgers(), st.data())
def test_in_doubt_writes_never_count_as_lost(ledger: tuple[list[LedgerRecord], set[int]], data: st.DataObject) -> None:
    records, present = ledger
    doubtful = [r.seq for r in records if r.outcome is Outcome.IN_DOUBT]
    flipped = set(data.draw(st.lists(st.sampled_from(doubtful), unique=True))) if doubtful else set()
    before = classify(records, present, run_id="r")
    after = classify(records, present ^ flipped, run_id="r")
    # whether an in-doubt write made it changes nothing about loss or RPO
    assert (after.lost, after.kept, after.rpo_s, after.lost_seqs) == (before.lost, before.kept, before.rpo_s,
                                                                       before.lost_seqs)
    assert after.in_doubt == before.in_doubt
