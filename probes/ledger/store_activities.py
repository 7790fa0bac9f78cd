"""The store ledgers around a run (DynamoDB items, S3 objects) and their Chaos Toolkit probe.

The run session starts one :class:`~aftershock.probes.ledger.store_writer.StoreLedgerWriter` per store the
experiment names (``aftershock_store_ledgers: [dynamodb, s3]``), writing in the primary region and watching the
secondary; after the fault the probe reads each ledger back from the surviving region once (a ``store_rpo``
measurement per store, reused by the summary). When the session stops the writers, each ledger not read back yet
is read back, then the run's entries are deleted in every region (a region that does not answer is skipped).

Example (experiment)::

    {"type": "probe", "name": "cart-rpo",
     "provider": {"type": "python", "module": "aftershock.probes.ledger.store_activities",
                  "func": "store_ledger_result", "arguments": {"store": "dynamodb"}}}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aftershock.core.measurements import StoreRpoMeasurement, measurements_of, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.faults.context import ActivityContext, run_folder
from aftershock.probes.ledger.record import read_ledger
from aftershock.probes.ledger.store_readback import read_back_store
from aftershock.probes.ledger.store_writer import StoreLedgerWriter, ledger_file
from aftershock.probes.ledger.stores import STORES, StoreAccess, StoreError, client_factory

__all__ = ["read_back_stores_once", "start_store_ledgers", "stop_store_ledgers", "store_ledger_result"]


def _replica(target: Target) -> str:
    return target.secondary.name if target.secondary is not None else target.primary.name


def start_store_ledgers(run: RunFolder, target: Target, stores: Sequence[str],
                        rate_per_s: float) -> list[StoreLedgerWriter]:
    """Start a writer per store (all checked first: a store the target lacks fails before any write)."""
    clients = client_factory(target)
    accesses = [StoreAccess(target, store, clients) for store in stores]
    writers = [StoreLedgerWriter(access, run.path, run_id=run.path.name, primary=target.primary.name,
                                 replica=_replica(target), rate_per_s=rate_per_s) for access in accesses]
    started: list[StoreLedgerWriter] = []
    try:
        for writer in writers:
            writer.start()
            started.append(writer)
    except BaseException:
        stop_store_ledgers(started)
        raise
    return started


def stop_store_ledgers(writers: Sequence[StoreLedgerWriter], run: RunFolder | None = None) -> list[str]:
    """Stop the writers; with ``run``: read back what was not yet, then delete the run's entries everywhere.
    Returns what failed (never raises: the session's other parts still stop)."""
    problems = []
    for writer in writers:
        writer.stop()
        if run is None:
            continue
        try:
            read_back_store_once(run, writer.access.store)
        except Exception as exc:
            problems.append(f"{writer.access.store} ledger read-back failed: {exc}")
        for region in (r.name for r in writer.access.target.regions):
            try:
                writer.access.cleanup(region, writer.run_id, range(1, writer.attempted + 1))
            except Exception as exc:  # a lost region may not answer
                problems.append(f"{writer.access.store} ledger cleanup in {region} failed: {exc}")
    return problems


def read_back_store_once(run: RunFolder, store: str, *, region: str = "", settle_s: float = 1.0,
                         timeout_s: float = 30.0) -> StoreRpoMeasurement:
    """The run's ``store_rpo`` measurement of ``store``: recorded already, or read back now and recorded."""
    done = [m for m in measurements_of(run, StoreRpoMeasurement) if m.store == store]
    if done:
        return done[-1]
    if not read_ledger(run.path / ledger_file(store), run.path.name).records:
        raise StoreError(f"{run.path} has no {store} ledger: name it in aftershock_store_ledgers", store=store)
    with ActivityContext.for_run(run) as ctx:
        target = ctx.target
    access = StoreAccess(target, store, client_factory(target))
    result = read_back_store(access, run.path, run.path.name, region=region or _replica(target), settle_s=settle_s,
                             timeout_s=timeout_s)
    return record_measurement(run, result)


def read_back_stores_once(run: RunFolder) -> list[str]:
    """Read back every store ledger of the run not read back yet; returns the errors (for the summary)."""
    errors = []
    for store in STORES:
        if (run.path / ledger_file(store)).exists():
            try:
                read_back_store_once(run, store)
            except Exception as exc:  # the summary still gets written; the failure is reported in it
                errors.append(f"{store} ledger read-back failed: {exc}")
    return errors


def store_ledger_result(store: str = "dynamodb", region: str = "", settle_s: float = 1.0, timeout_s: float = 30.0,
                        configuration: dict[str, Any] | None = None,
                        secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the run's ``store`` ledger (``dynamodb`` or ``s3``) back from ``region`` (default: the secondary) once
    replication settled (``settle_s`` without change): kept, lost, in doubt, ``rpo_s`` and the replication lag
    seen on the replica side (``lag_p50_s``, ``lag_p99_s``). The entries are deleted when the session stops."""
    run = run_folder(configuration)
    return read_back_store_once(run, store, region=region, settle_s=settle_s, timeout_s=timeout_s).fields()
