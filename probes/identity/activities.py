"""Chaos Toolkit activities of the identity ledger (``identity-region-failover``).

* :func:`start_identity_ledger` (action, before the fault): numbered sign-ups in the primary pool, in the
  background, with a session every ``session_every``-th user.
* :func:`identity_ledger_result` (probe, after the fault): stops the sign-ups, reads them back at the standby
  (lost users counted against the standby pool, sign-in per the migration path, sessions replayed), records an
  ``identity_rpo`` measurement, and deletes the run's test users in every region that answers.
* :func:`stop_identity_ledger` (rollback): the same clean-up when the probe never ran (idempotent).

The running ledger lives in this process (Chaos Toolkit runs the activities of one experiment in one process).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.measurements import IdentityRpoMeasurement, measurements_of
from aftershock.faults.context import ActivityContext, run_folder
from aftershock.probes.identity.access import IdentityAccess
from aftershock.probes.identity.ledger import IdentityLedger
from aftershock.probes.identity.readback import cleanup_users, read_back_identity
from aftershock.probes.live import last_fault_start, record

__all__ = ["identity_ledger_result", "start_identity_ledger", "stop_identity_ledger"]

_RUNNING: dict[str, IdentityLedger] = {}  # run folder -> its ledger, while the experiment runs


def start_identity_ledger(rate_per_s: float = 5.0, session_every: int = 2,
                          configuration: dict[str, Any] | None = None,
                          secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start numbered sign-ups in the primary pool (users ``<identity.test_user_prefix>-<run>-<seq>``)."""
    with ActivityContext.from_configuration(configuration) as ctx:
        target, run = ctx.target, ctx.run
    key = str(run.path)
    if key in _RUNNING:
        raise HarnessError(f"the identity ledger of {run.path.name} is already running: start it once per run")
    ledger = IdentityLedger(IdentityAccess(target), run.path, run_id=run.path.name, primary=target.primary.name,
                            rate_per_s=rate_per_s, session_every=session_every)
    ledger.start()
    _RUNNING[key] = ledger
    return {"started_at": time.time(), "rate_per_s": rate_per_s, "migration": target.identity.migration
            if target.identity else None}


def _finish(key: str) -> tuple[IdentityLedger | None, int, list[str]]:
    ledger = _RUNNING.pop(key, None)
    if ledger is None:
        return None, 0, []
    ledger.stop()
    regions = [r.name for r in ledger.access.target.regions]
    deleted, errors = cleanup_users(ledger.access, [s.user for s in ledger.signups], regions)
    return ledger, deleted, errors


def identity_ledger_result(settle_s: float = 0.0, replay_s: float = 3.0, timeout_s: float = 120.0,
                           configuration: dict[str, Any] | None = None,
                           secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the sign-ups back at the standby after the failover (the last applied fault): lost users (counted
    against the standby pool), identity RPO, sign-in success per the migration path, sessions rejected.
    ``settle_s`` 0: one export period plus 1 s."""
    run = run_folder(configuration)
    ledger = _RUNNING.get(str(run.path))
    if ledger is None:
        raise HarnessError("identity_ledger_result: no identity ledger runs: add start_identity_ledger before the "
                           "fault")
    ledger.stop()
    identity, target = ledger.access.identity, ledger.access.target
    standby = target.secondary.name if target.secondary is not None else target.primary.name
    result = read_back_identity(ledger, standby, last_fault_start(run), timeout_s=timeout_s, replay_s=replay_s,
                                settle_s=settle_s or identity.export_period_s + 1.0)
    _, deleted, errors = _finish(str(run.path))
    measured = record(run, dataclasses.replace(result, cleaned=deleted, cleanup_errors=tuple(errors)))
    return {**measured.fields(), "rejected_session_rate": measured.rejected_session_rate,
            "migration_path": identity.migration_text}


def stop_identity_ledger(configuration: dict[str, Any] | None = None,
                         secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop the sign-ups and delete the run's test users (nothing to do when the probe did it already)."""
    run = run_folder(configuration)
    ledger, deleted, errors = _finish(str(run.path))
    return {"stopped": ledger is not None, "deleted": deleted, "errors": errors,
            "measured": bool(measurements_of(run, IdentityRpoMeasurement))}
