"""Reading a store ledger back from the surviving region: kept, lost, in doubt, RPO, and the replication lag.

Classification and RPO are the RPO ledger's (:func:`aftershock.probes.ledger.analysis.classify`, same definition).
Replication settles before the verdict: the region is read until it holds every acknowledged entry, or what it
holds has not changed for ``settle_s`` seconds (a lost region's backlog never arrives).

Lag (from the ``seen`` lines of :mod:`~aftershock.probes.ledger.store_writer`): per entry ``seen_at - acked_at``, an
upper bound; ``lag_resolution_s`` is the widest ``seen_at - absent_at`` (how much earlier it may have arrived).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

from aftershock.core.measurements import StoreRpoMeasurement
from aftershock.probes.ledger.analysis import classify
from aftershock.probes.ledger.record import Outcome, read_ledger
from aftershock.probes.ledger.store_writer import ledger_file
from aftershock.probes.ledger.stores import StoreAccess, StoreError

__all__ = ["percentile", "read_back_store", "seen_lines"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def seen_lines(path: Path, run_id: str) -> dict[int, tuple[float, float]]:
    """``seq -> (absent_at, seen_at)`` from the replica watcher's lines of ``run_id``."""
    found: dict[int, tuple[float, float]] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("kind") == "seen" and data.get("run_id") == run_id:
            found.setdefault(int(data["seq"]), (float(data["absent_at"]), float(data["seen_at"])))
    return found


def read_back_store(access: StoreAccess, run_dir: Path, run_id: str, *, region: str, settle_s: float = 1.0,
                    timeout_s: float = 30.0) -> StoreRpoMeasurement:
    """Classify the run's entries against what ``region`` holds once replication settled."""
    path = Path(run_dir) / ledger_file(access.store)
    ledger = read_ledger(path, run_id)
    if not ledger.records:
        raise StoreError(f"{path} holds no writes of run {run_id}: start the store ledger before the fault",
                         store=access.store)
    seqs = [r.seq for r in ledger.records]
    acked = {r.seq for r in ledger.records if r.outcome is Outcome.OK}
    present = _settled(access, region, run_id, seqs, acked, settle_s, timeout_s)
    result = classify(ledger.records, present, run_id=run_id, skipped_lines=ledger.skipped_lines)
    acked_at = {r.seq: r.acked_at for r in ledger.records if r.acked_at is not None}
    seen = seen_lines(path, run_id)
    lags = [seen_at - acked_at[s] for s, (_, seen_at) in seen.items() if s in acked_at]
    widths = [seen_at - absent_at for absent_at, seen_at in seen.values()]
    return StoreRpoMeasurement(
        ts=time.time(), store=access.store, region=region, run_id=run_id, attempted=result.attempted,
        acknowledged=result.acknowledged, kept=result.kept, lost=result.lost, in_doubt=result.in_doubt,
        rejected=result.rejected, failed_before_send=result.failed_before_send, rpo_s=result.rpo_s,
        lost_seqs=result.lost_seqs, write_rate_per_s=result.write_rate_per_s, lag_samples=len(lags),
        lag_p50_s=percentile(lags, 50), lag_p99_s=percentile(lags, 99), lag_max_s=max(lags, default=None),
        lag_resolution_s=max(widths, default=None))


def _settled(access: StoreAccess, region: str, run_id: str, seqs: list[int], acked: set[int], settle_s: float,
             timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    present = access.present(region, run_id, seqs)
    stable_since = time.monotonic()
    while not acked <= present and time.monotonic() - stable_since < settle_s:
        if time.monotonic() > deadline:
            break
        time.sleep(min(0.1, settle_s / 4))
        now = access.present(region, run_id, seqs)
        if now != present:
            present, stable_since = now, time.monotonic()
    return present
