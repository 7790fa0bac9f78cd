"""Delete a run's store ledger entries after the harness died (``aftershock recover``).

The session deletes the entries when it stops; a SIGKILLed run leaves them behind. The ledger file says which:
the writer is one thread that records each attempt once answered, so the store can hold at most one entry past the
last recorded seq (sent, then killed before its line was written): seqs ``1 .. last + 1`` on DynamoDB, and on S3
every object version under the run's prefix (listed). Deleting again is harmless: recover may run twice.

Example::

    for line in cleanup_store_ledgers(run_dir, target):
        print(line)   # "dynamodb ledger: 412 item(s) deleted in us-east-1", ...
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aftershock.core.target import Target
from aftershock.probes.ledger.record import read_ledger
from aftershock.probes.ledger.store_writer import ledger_file
from aftershock.probes.ledger.stores import STORES, StoreAccess, client_factory

__all__ = ["cleanup_store_ledgers"]


def cleanup_store_ledgers(run_dir: Path, target: Target) -> list[str]:
    """Delete the entries of every store ledger of the run in every region of ``target``; one line per store and
    region (what was deleted, or why not: a region that does not answer is reported, never raised)."""
    lines: list[str] = []
    run_id = Path(run_dir).name
    for store in STORES:
        path = Path(run_dir) / ledger_file(store)
        if not path.exists():
            continue
        ledger = read_ledger(path, run_id)
        last = max((r.seq for r in ledger.records), default=0)
        access = StoreAccess(target, store, client_factory(target))
        what = "item(s)" if store == "dynamodb" else "object version(s)"
        for region in (r.name for r in target.regions):
            try:
                seqs: Iterable[int] = range(1, last + 2)
                if store == "dynamodb":  # delete what is there, so that the count is what was left behind
                    seqs = sorted(access.present(region, run_id, seqs))
                deleted = access.cleanup(region, run_id, seqs)
            except Exception as exc:  # a lost region, a lab that is down: say so, go on with the others
                prefix = access.key(run_id, 0)[:-6]
                lines.append(f"{store} ledger: cleanup in {region} failed ({type(exc).__name__}: {str(exc)[:160]}); "
                             f"delete the keys starting {prefix!r} there by hand")
                continue
            lines.append(f"{store} ledger: {deleted} {what} deleted in {region}")
    return lines
