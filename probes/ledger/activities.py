"""Chaos Toolkit probes of the RPO ledger (python providers: ``module: aftershock.probes.ledger.activities``).

They find the run through the experiment's configuration (see :mod:`aftershock.faults.context`):

* ``aftershock_run_dir`` (else ``$AFTERSHOCK_RUN_DIR``): the run folder holding ``ledger.jsonl``;
* ``aftershock_run_id`` (optional): which run of the ledger; by default the only run the file holds;
* the target of the run's plan (``run.json``): its global writer endpoint is read back (the driver gives the
  writer's conninfo).

Example (experiment JSON)::

    {"type": "probe", "name": "rpo-ledger",
     "provider": {"type": "python", "module": "aftershock.probes.ledger.activities", "func": "ledger_result",
                  "arguments": {"timeout_s": 30}}}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aftershock.core.measurements import RpoMeasurement, last_measurement, record_measurement
from aftershock.core.runfolder import RunFolder
from aftershock.faults.context import ActivityContext, run_folder
from aftershock.probes.ledger.readback import LedgerError, read_back
from aftershock.probes.ledger.record import Outcome, read_ledger

__all__ = ["ledger_progress", "ledger_result"]


def ledger_result(timeout_s: float = 30.0, configuration: dict[str, Any] | None = None,
                  secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the run's RPO ledger back from the (new) writer: kept, lost, in-doubt and failed writes, and RPO.

    Retries connecting for up to ``timeout_s`` seconds. Returns
    :meth:`aftershock.probes.ledger.readback.LedgerResult.to_dict`
    (``lost``, ``rpo_s``, ``lost_seqs``, ``rpo_definition``, ...). ``secrets`` is unused: the password comes from
    the target (``database.password_from``).

    The result is recorded in the run folder (an ``rpo`` measurement): the ledger is read back once per run, and
    the summary reuses it.
    """
    run = run_folder(configuration)
    return read_back_once(run, timeout_s=timeout_s, run_id=_run_id(configuration, run.path)).fields()


def read_back_once(run: RunFolder, *, timeout_s: float = 30.0, run_id: str = "") -> RpoMeasurement:
    """The run's ``rpo`` measurement: recorded already, or read back from the writer now and recorded."""
    previous = last_measurement(run, RpoMeasurement)
    if previous is not None:
        return previous
    run_id = run_id or _run_id(None, run.path)
    with ActivityContext.for_run(run) as ctx:
        conninfo = ctx.driver.writer_conninfo()
    result = read_back(conninfo, run.path, run_id, timeout_s=timeout_s)
    return record_measurement(run, RpoMeasurement.from_record({"ts": time.time(), **result.to_dict()}))


def ledger_progress(configuration: dict[str, Any] | None = None,
                    secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """The writer's own view so far, from ``ledger.jsonl`` only (no database access): attempts by outcome and the
    last acknowledgement time (``null`` before the first one)."""
    run_dir = _run_dir(configuration)
    run_id = _run_id(configuration, run_dir)
    records = read_ledger(run_dir, run_id).records
    counts = {o.value: sum(r.outcome is o for r in records) for o in Outcome}
    acks = [r.acked_at for r in records if r.acked_at is not None]
    return {"run_id": run_id, "attempted": len(records), **counts, "last_acked_at": max(acks, default=None)}


def _run_dir(configuration: Mapping[str, Any] | None) -> Path:
    return run_folder(configuration).path


def _run_id(configuration: Mapping[str, Any] | None, run_dir: Path) -> str:
    value = (configuration or {}).get("aftershock_run_id")
    if value:
        return str(value)
    runs = read_ledger(run_dir).run_ids
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise LedgerError(f"{run_dir} has no RPO ledger: start the ledger writer "
                          "(aftershock.probes.ledger.writer.LedgerWriter) "
                          "before the fault")
    raise LedgerError(f"the ledger in {run_dir} holds runs {', '.join(runs)}: set aftershock_run_id in the "
                      "experiment configuration to pick one")
