"""Chaos Toolkit activities of the identity ledger (``identity-region-failover``).

* :func:`start_identity_ledger` (action, before the fault): numbered sign-ups in the primary pool, in the
  background, with a session every ``session_every``-th user.
* :func:`identity_ledger_result` (probe, after the fault): stops the sign-ups, reads them back at the standby
  (lost users counted against the standby pool, sign-in per the migration path, sessions replayed), records an
  ``identity_rpo`` measurement, and deletes the run's test users in every region that answers.
* :func:`stop_identity_ledger` (rollback): the same clean-up when the probe never ran (idempotent).

The run folder is the source of truth: ``ledger-identity.jsonl`` says whether the ledger started and ended and
which users it signed up; the clean-up and ``aftershock recover`` work from it alone. What cannot be on disk stays
in the memory of the process that started the ledger: the sign-up thread and the secrets it holds (passwords,
tokens). Chaos Toolkit runs one experiment's activities in one process, so the probe finds them in
:data:`_SECRETS_IN_MEMORY`; anywhere else the probe reads back from the file and reports what needs them (session
replay, a migration trigger's sign-in with the old password) as unknown.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.measurements import IdentityRpoMeasurement, measurements_of
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.faults.context import ActivityContext, plan_of, run_folder
from aftershock.probes.identity.access import IdentityAccess
from aftershock.probes.identity.cleanup import cleanup_identity_users
from aftershock.probes.identity.ledger import IdentityLedger
from aftershock.probes.identity.readback import LedgerView, read_back_view
from aftershock.probes.identity.record import read_identity_record
from aftershock.probes.live import last_fault_start, record

__all__ = ["identity_ledger_result", "start_identity_ledger", "stop_identity_ledger"]

_SECRETS_IN_MEMORY: dict[str, IdentityLedger] = {}
"""Run folder -> the ledger this process started: its thread, passwords and tokens (never written to disk). The
ledger's state is the run folder's; this only keeps what the file must not hold."""


def start_identity_ledger(rate_per_s: float = 5.0, session_every: int = 2,
                          configuration: dict[str, Any] | None = None,
                          secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start numbered sign-ups in the primary pool (users ``<identity.test_user_prefix>-<run>-<seq>``)."""
    with ActivityContext.from_configuration(configuration) as ctx:
        target, run = ctx.target, ctx.run
    if read_identity_record(run.path).started:
        raise HarnessError(f"the identity ledger of {run.path.name} was started already: start it once per run")
    ledger = IdentityLedger(IdentityAccess(target), run.path, run_id=run.path.name, primary=target.primary.name,
                            rate_per_s=rate_per_s, session_every=session_every)
    ledger.start()
    _SECRETS_IN_MEMORY[str(run.path)] = ledger
    return {"started_at": time.time(), "rate_per_s": rate_per_s, "migration": target.identity.migration
            if target.identity else None}


def _stop_here(run: RunFolder) -> IdentityLedger | None:
    """Stop the sign-ups if this process runs them (the file gets its end line); the ledger, or None."""
    ledger = _SECRETS_IN_MEMORY.pop(str(run.path), None)
    if ledger is not None:
        ledger.stop()
    return ledger


def _view(run: RunFolder, ledger: IdentityLedger | None) -> LedgerView:
    if ledger is not None:
        return LedgerView(ledger.run_id, tuple(ledger.signups), ledger.passwords, ledger.tokens)
    found = read_identity_record(run.path)
    if not found.started:
        raise HarnessError("identity_ledger_result: no identity ledger ran in this run: add start_identity_ledger "
                           "before the fault")
    return LedgerView(found.run_id, found.signups)


def _target(run: RunFolder) -> Target:
    return plan_of(run).snapshot  # the target as the run started (no driver needed)


def identity_ledger_result(settle_s: float = 0.0, replay_s: float = 3.0, timeout_s: float = 120.0,
                           configuration: dict[str, Any] | None = None,
                           secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read the sign-ups back at the standby after the failover (the last applied fault): lost users (counted
    against the standby pool), identity RPO, sign-in success per the migration path, sessions rejected.
    ``settle_s`` 0: one export period plus 1 s."""
    run = run_folder(configuration)
    ledger = _stop_here(run)
    view = _view(run, ledger)
    target = _target(run)
    standby = target.secondary.name if target.secondary is not None else target.primary.name
    with ledger.access if ledger is not None else IdentityAccess(target) as access:
        result = read_back_view(access, view, standby, last_fault_start(run), timeout_s=timeout_s,
                                replay_s=replay_s, settle_s=settle_s or access.identity.export_period_s + 1.0)
        done = cleanup_identity_users(run.path, target, access=access)
    measured = record(run, dataclasses.replace(result, cleaned=done.deleted, cleanup_errors=done.errors))
    return {**measured.fields(), "rejected_session_rate": measured.rejected_session_rate,
            "migration_path": access.identity.migration_text}


def stop_identity_ledger(configuration: dict[str, Any] | None = None,
                         secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stop the sign-ups and delete the run's test users in every region that answers (from the run folder's
    record: works in any process, and again after the probe did it)."""
    run = run_folder(configuration)
    ledger = _stop_here(run)
    if ledger is not None:
        ledger.access.close()  # the clean-up works from the run folder, with clients of its own
    if not read_identity_record(run.path).started:
        return {"stopped": False, "deleted": 0, "errors": [], "measured": False}
    done = cleanup_identity_users(run.path, _target(run))
    return {"stopped": ledger is not None, "deleted": done.deleted, "errors": list(done.errors),
            "measured": bool(measurements_of(run, IdentityRpoMeasurement))}
