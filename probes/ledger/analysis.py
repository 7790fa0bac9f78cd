"""Which acknowledged writes were lost: the pure classification of a ledger against the seqs the database holds.

:func:`classify` takes the write records of one run and the set of their seqs found in the (new) writer's table,
and returns a :class:`LedgerResult`. No I/O, so it is property-tested.

RPO (:data:`RPO_DEFINITION`): the span of time whose acknowledged writes were lost = ack time of the last lost
write minus the ack time of the last *kept* write acknowledged before the first lost write (if there is none,
minus the first lost write's send time); ``0.0`` when no acknowledged write was lost. Writes are ordered by
ack time. In-doubt writes never count as lost (nobody was told they were written) and never bound the span.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import asdict, dataclass, field
from typing import Any

from aftershock.probes.ledger.record import LedgerRecord, Outcome

__all__ = ["LOST_SEQS_SHOWN", "RPO_DEFINITION", "LedgerResult", "classify"]

LOST_SEQS_SHOWN = 50
RPO_DEFINITION = (
    "ack time of the last acknowledged-and-lost write minus the ack time of the last acknowledged-and-kept write "
    "acknowledged before the first lost write (if none, minus the first lost write's send time); "
    "0.0 when no acknowledged write was lost"
)


@dataclass(frozen=True)
class LedgerResult:
    """The RPO ledger of one run read back from the writer (counts are write attempts; times are epoch seconds).

    ``attempted`` = ``acknowledged + in_doubt + failed_before_send + rejected``;
    ``acknowledged`` = ``kept + lost``; ``in_doubt`` = ``in_doubt_present + in_doubt_absent``.
    ``unexpected_present`` counts failed or rejected writes found in the table (0 unless something is wrong).
    ``lost_seqs`` holds the first :data:`LOST_SEQS_SHOWN` lost seqs, ascending. ``write_rate_per_s`` is attempts per
    second over the span from the first to the last attempt.
    """

    run_id: str
    attempted: int
    acknowledged: int
    kept: int
    lost: int
    in_doubt: int
    in_doubt_present: int
    in_doubt_absent: int
    failed_before_send: int
    rejected: int
    unexpected_present: int
    rpo_s: float
    first_lost_ack_at: float | None
    last_lost_ack_at: float | None
    lost_seqs: tuple[int, ...]
    write_rate_per_s: float
    first_sent_at: float | None
    last_sent_at: float | None
    skipped_lines: int = 0
    rpo_definition: str = field(default=RPO_DEFINITION, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists)."""
        data = asdict(self)
        data["lost_seqs"] = list(self.lost_seqs)
        return data


def classify(records: Iterable[LedgerRecord], present: Set[int], *, run_id: str,
             skipped_lines: int = 0) -> LedgerResult:
    """Classify ``records`` (one run, unique seqs) against ``present``, the seqs found in the writer's table."""
    records = tuple(records)
    seqs = [r.seq for r in records]
    if len(set(seqs)) != len(seqs):
        raise ValueError(f"a seq appears twice in the ledger of run {run_id!r}: give each writer its own run_id")
    by_outcome: dict[Outcome, list[LedgerRecord]] = {o: [] for o in Outcome}
    for record in records:
        by_outcome[record.outcome].append(record)
    acked = sorted(by_outcome[Outcome.OK], key=_ack_order)
    lost = [r for r in acked if r.seq not in present]
    doubtful = by_outcome[Outcome.IN_DOUBT]
    doubt_present = sum(r.seq in present for r in doubtful)
    definitely_not = by_outcome[Outcome.FAILED] + by_outcome[Outcome.REJECTED]
    sent = sorted(r.sent_at for r in records)
    return LedgerResult(
        run_id=run_id,
        attempted=len(records),
        acknowledged=len(acked),
        kept=len(acked) - len(lost),
        lost=len(lost),
        in_doubt=len(doubtful),
        in_doubt_present=doubt_present,
        in_doubt_absent=len(doubtful) - doubt_present,
        failed_before_send=len(by_outcome[Outcome.FAILED]),
        rejected=len(by_outcome[Outcome.REJECTED]),
        unexpected_present=sum(r.seq in present for r in definitely_not),
        rpo_s=_rpo_s(acked, lost, present),
        first_lost_ack_at=lost[0].acked_at if lost else None,
        last_lost_ack_at=lost[-1].acked_at if lost else None,
        lost_seqs=tuple(sorted(r.seq for r in lost)[:LOST_SEQS_SHOWN]),
        write_rate_per_s=(len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else 0.0,
        first_sent_at=sent[0] if sent else None,
        last_sent_at=sent[-1] if sent else None,
        skipped_lines=skipped_lines,
    )


def _ack_order(record: LedgerRecord) -> tuple[float, int]:
    assert record.acked_at is not None
    return record.acked_at, record.seq


def _rpo_s(acked: list[LedgerRecord], lost: list[LedgerRecord], present: Set[int]) -> float:
    """See :data:`RPO_DEFINITION`; ``acked`` and ``lost`` are in ack order."""
    if not lost:
        return 0.0
    first, last = lost[0], lost[-1]
    assert first.acked_at is not None and last.acked_at is not None
    kept_before = [r.acked_at for r in acked if r.seq in present and r.acked_at is not None
                   and r.acked_at < first.acked_at]
    start = max(kept_before) if kept_before else first.sent_at
    return last.acked_at - start
