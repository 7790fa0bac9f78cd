"""The replica watch's cost and resolution: one read per ``watch_s`` whatever the write rate, and every lag within
``[true lag, true lag + watch_s]`` (against a fake store whose replica shows each entry a known time after its
write: the truth is known exactly)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aftershock.probes.ledger.record import Outcome
from aftershock.probes.ledger.store_readback import read_back_store
from aftershock.probes.ledger.store_writer import WATCH_S, StoreLedgerWriter

LAG_S = 0.03


class LaggingBucket:
    """A fake S3 bucket pair: a write is acknowledged at once and shows in the replica ``LAG_S`` later."""

    store = "s3"

    def __init__(self) -> None:
        self.written: dict[int, float] = {}
        self.reads = 0
        self._lock = threading.Lock()

    def client(self, region: str) -> Any:
        return None

    def put(self, region: str, run_id: str, seq: int) -> tuple[Outcome, str | None, str | None]:
        with self._lock:
            self.written[seq] = time.time()
        return Outcome.OK, None, None

    def present(self, region: str, run_id: str, seqs: Iterable[int]) -> set[int]:
        now = time.time()
        with self._lock:
            self.reads += 1
            return {s for s in seqs if s in self.written and self.written[s] + LAG_S <= now}


def test_the_watch_reads_once_per_period_whatever_the_rate_and_bounds_each_lag(tmp_path: Path) -> None:
    assert WATCH_S == 0.25  # the default period: the lag resolution the README states with the cost
    bucket = LaggingBucket()
    writer = StoreLedgerWriter(bucket, tmp_path, run_id="r", primary="east",  # type: ignore[arg-type]
                               replica="west", rate_per_s=100.0, watch_s=0.1)
    writer.start()
    time.sleep(1.0)
    reads_while_writing = bucket.reads
    writer.stop()
    # ~100 writes and ~10 reads (one per 0.1 s period, each covering every entry not seen yet); not one per write
    assert writer.acknowledged >= 60
    assert 6 <= reads_while_writing <= 11, reads_while_writing
    result = read_back_store(bucket, tmp_path, "r", region="west", settle_s=0.1)  # type: ignore[arg-type]
    assert (result.lost, result.lag_samples) == (0, writer.acknowledged)
    assert result.lag_p50_s is not None and result.lag_max_s is not None and result.lag_resolution_s is not None
    # upper bounds: never below the true lag, at most one period (plus a read's own time, loaded machine) above
    assert LAG_S <= result.lag_p50_s <= result.lag_max_s <= LAG_S + 0.1 + 0.1, result
    assert result.lag_resolution_s <= 0.1 + 0.1, result
