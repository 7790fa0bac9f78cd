"""The ledger across real failovers: its counts match the database's truth, and a cut stream gives a real RPO."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aftershock.probes.ledger.readback import LedgerResult, LedgerWriter, read_back
from aftershock.probes.ledger.record import LEDGER_FILE

if TYPE_CHECKING:
    from tests.probes.conftest import LedgerLab

pytestmark = pytest.mark.timeout(180)

RATE = 25.0
INTERVAL = 1 / RATE
SLACK_S = 0.3  # a busy 2-core machine: scheduling delays around the fault calls


def writes(run_dir: Path, run_id: str) -> list[dict[str, Any]]:
    """The ledger's write lines, parsed independently of aftershock.probes.ledger.record."""
    lines = [json.loads(x) for x in (run_dir / LEDGER_FILE).read_text().splitlines()]
    return [d for d in lines if d["kind"] == "write" and d["run_id"] == run_id]


def assert_matches_truth(result: LedgerResult, ledger: list[dict[str, Any]], truth: set[int]) -> set[int]:
    """Every count of ``result`` recomputed from the raw ledger and the seqs the new writer holds; the lost seqs."""
    def seqs(outcome: str) -> set[int]:
        return {d["seq"] for d in ledger if d["outcome"] == outcome}

    acked, doubtful = seqs("ok"), seqs("in_doubt")
    lost = acked - truth
    assert result.attempted == len(ledger)
    assert result.acknowledged == len(acked)
    assert result.kept == len(acked & truth)
    assert result.lost == len(lost)
    assert result.lost_seqs == tuple(sorted(lost)[:50])
    assert (result.in_doubt_present, result.in_doubt_absent) == (len(doubtful & truth), len(doubtful - truth))
    assert result.failed_before_send == len(seqs("failed")) and result.rejected == len(seqs("rejected"))
    assert result.unexpected_present == 0 and truth <= acked | doubtful
    return lost


def test_writer_crash_and_in_region_failover(ledger_lab: LedgerLab, run_dir: Path) -> None:
    writer = LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="crash", rate_per_s=RATE)
    writer.start()
    time.sleep(1.5)
    crashed_at = time.time()
    assert ledger_lab.fleet.crash_writer() == "shop-east-a"
    deadline = time.monotonic() + 30
    while not ledger_lab.fleet.failovers and time.monotonic() < deadline:
        time.sleep(0.05)
    failover = ledger_lab.fleet.failovers[0]
    time.sleep(2.0)
    stats = writer.stop()
    result = read_back(ledger_lab.endpoint_conninfo(), run_dir, "crash", timeout_s=30)
    ledger = writes(run_dir, "crash")
    truth = ledger_lab.seqs_on(failover.new_writer, "crash")
    print(f"crash: endpoint moved {failover.endpoint_moved_at - crashed_at:.3f}s after the crash; {result}")

    assert failover.new_writer == "shop-east-b" and stats.failure is None
    assert_matches_truth(result, ledger, truth)
    after = [d for d in ledger if d["sent_at"] > failover.endpoint_moved_at]
    assert len(after) >= 25 and all(d["outcome"] == "ok" and d["seq"] in truth for d in after[1:])
    # the outage between crash and endpoint move: attempts fail (or are in doubt), none is lost silently
    assert result.failed_before_send + result.in_doubt > 0
    assert result.write_rate_per_s >= 20.0


def test_cut_replication_then_global_failover_loses_the_writes_after_the_cut(ledger_lab: LedgerLab,
                                                                            run_dir: Path) -> None:
    fleet = ledger_lab.fleet
    writer = LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="cut", rate_per_s=RATE)
    writer.start()
    time.sleep(1.5)
    t0 = time.time()
    fleet.cut_replication("us-west-2")
    t1 = time.time()
    time.sleep(2.0)
    t2 = time.time()
    failover = fleet.failover_global("us-west-2")
    t3 = time.time()
    time.sleep(1.5)
    stats = writer.stop()
    result = read_back(ledger_lab.endpoint_conninfo(), run_dir, "cut", timeout_s=30)
    ledger = writes(run_dir, "cut")
    truth = ledger_lab.seqs_on("shop-west-a", "cut")
    print(f"cut {t1 - t0:.3f}s, {t2 - t1:.3f}s of writes, failover {t3 - t2:.3f}s: rpo {result.rpo_s:.3f}s; "
          f"{result}")

    assert failover.new_writer == "shop-west-a" and stats.failure is None
    lost = assert_matches_truth(result, ledger, truth)
    assert result.lost > 0 and lost
    # the lost writes are those acknowledged between the cut and the fencing of the old writer
    lost_acks = sorted(d["acked_at"] for d in ledger if d["seq"] in lost)
    assert t0 - SLACK_S <= lost_acks[0] <= t1 + INTERVAL + SLACK_S
    assert t2 - INTERVAL - SLACK_S <= lost_acks[-1] <= t3
    assert (result.first_lost_ack_at, result.last_lost_ack_at) == (lost_acks[0], lost_acks[-1])
    assert t2 - t1 - INTERVAL - SLACK_S <= result.rpo_s <= t3 - t0 + INTERVAL + SLACK_S
    # about 2 s of writes at 25/s were lost, and writes went on through the new writer
    assert result.lost >= (t2 - t1) * RATE * 0.8
    assert any(d["outcome"] == "ok" and d["sent_at"] > t3 and d["seq"] in truth for d in ledger)
