"""A fault outcome into the journal, and reverting what the journal says is still injected (rollback, safety
net, ``aftershock recover``)."""

from __future__ import annotations

import uuid

from aftershock.core.errors import FaultRefused
from aftershock.core.journal import FaultJournal
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import RunFolder
from aftershock.faults.driver import Driver
from aftershock.faults.outcome import FaultOutcome, RevertCall


def record_injected(run: RunFolder, action: str, outcome: FaultOutcome, injected_at: float) -> str:
    """Journal ``outcome`` of ``action`` with its reverts; returns the fault's id."""
    return FaultJournal(run).injected(action, outcome.description, outcome.reverts, details=outcome.details,
                                      ts=injected_at, supersedes=outcome.in_flight_id)


BASELINE_REVERT = "restore_baseline"
"""The driver method that undoes whatever differs from the target's baseline (the lab's
``faults/restore-baseline``): the revert of a fault whose own reverts were never journaled."""


def journal_intent(run: RunFolder, action: str) -> str:
    """Before a one-call fault (the lab): an in-flight entry reverted by a return to the baseline, so a harness
    killed between the call and the fault's journal line leaves something for ``aftershock recover``. Returns
    its id: the fault's own entry supersedes it (:func:`record_injected`)."""
    fault_id = "inflight-" + uuid.uuid4().hex[:10]
    FaultJournal(run).in_flight(fault_id, action, (RevertCall(BASELINE_REVERT, {}),))
    return fault_id


def drop_intent(run: RunFolder, fault_id: str, action: str) -> None:
    """The fault was refused before anything changed: its in-flight entry needs no revert."""
    FaultJournal(run).reverted(fault_id, f"{action} (in flight)", by="refused")


def revert_outstanding(run: RunFolder, driver: Driver, *, by: str) -> list[str]:
    """Revert every outstanding fault, newest first; returns what was done. A failed revert raises after
    recording, so the caller can report it and the fault stays outstanding for ``aftershock recover``."""
    journal = FaultJournal(run)
    done: list[str] = []
    for fault in reversed(journal.outstanding()):
        for call in fault.reverts:
            try:
                outcome: FaultOutcome = getattr(driver, call.method)(**call.args)
            except FaultRefused as exc:  # already in the wanted state (e.g. a rollback did part of it)
                done.append(f"skipped {call.method}: {exc}")
            else:
                done.append(outcome.description)
        journal.reverted(fault.fault_id, fault.action, by=by)
        run.mark(MarkerKind.FAULT_REVERTED, fault_id=fault.fault_id, action=fault.action, by=by)
    return done
