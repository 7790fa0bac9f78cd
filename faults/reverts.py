"""A fault outcome into the journal, and reverting what the journal says is still injected (rollback, safety
net, ``aftershock recover``)."""

from __future__ import annotations

from aftershock.core.errors import FaultRefused
from aftershock.core.journal import FaultJournal
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import RunFolder
from aftershock.faults.driver import Driver
from aftershock.faults.outcome import FaultOutcome


def record_injected(run: RunFolder, action: str, outcome: FaultOutcome, injected_at: float) -> str:
    """Journal ``outcome`` of ``action`` with its reverts; returns the fault's id."""
    return FaultJournal(run).injected(action, outcome.description, outcome.reverts, details=outcome.details,
                                      ts=injected_at, supersedes=outcome.in_flight_id)


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
