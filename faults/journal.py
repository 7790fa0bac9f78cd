"""The fault journal (``faults.jsonl`` in the run folder): every injected fault with its reverts.

Written *before* the run moves on, so whatever happens next (a failed probe, Ctrl-C, SIGTERM, a crash of the
harness) the outstanding faults can be found and reverted: by the experiment's rollback, by the harness's
safety net at the end of ``aftershock run``, or later by ``aftershock recover RUN_FOLDER``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from aftershock.errors import FaultRefused
from aftershock.runfolder import RunFolder
from faults.driver import Driver
from faults.outcome import FaultOutcome, RevertCall

JOURNAL = "faults.jsonl"


@dataclass(frozen=True)
class InjectedFault:
    fault_id: str
    action: str
    description: str
    injected_at: float
    reverts: tuple[RevertCall, ...]


def record_injected(run: RunFolder, action: str, outcome: FaultOutcome, injected_at: float) -> str:
    fault_id = uuid.uuid4().hex[:12]
    run.append(JOURNAL, {
        "event": "injected", "fault_id": fault_id, "action": action, "ts": injected_at,
        "description": outcome.description, "details": outcome.details,
        "reverts": [{"method": c.method, "args": c.args} for c in outcome.reverts],
    })
    return fault_id


def outstanding(run: RunFolder) -> list[InjectedFault]:
    """Injected faults that have reverts and were not reverted yet, oldest first."""
    injected: dict[str, InjectedFault] = {}
    for record in run.records(JOURNAL):
        if record["event"] == "injected" and record["reverts"]:
            injected[record["fault_id"]] = InjectedFault(
                record["fault_id"], record["action"], record["description"], record["ts"],
                tuple(RevertCall(c["method"], c["args"]) for c in record["reverts"]))
        elif record["event"] == "reverted":
            injected.pop(record["fault_id"], None)
    return list(injected.values())


def revert_outstanding(run: RunFolder, driver: Driver, *, by: str) -> list[str]:
    """Revert every outstanding fault, newest first; returns what was done. A failed revert raises after
    recording, so the caller can report it and the fault stays outstanding for ``aftershock recover``."""
    done: list[str] = []
    for fault in reversed(outstanding(run)):
        for call in fault.reverts:
            try:
                outcome: FaultOutcome = getattr(driver, call.method)(**call.args)
            except FaultRefused as exc:  # already in the wanted state (e.g. a rollback did part of it)
                done.append(f"skipped {call.method}: {exc}")
            else:
                done.append(outcome.description)
        run.append(JOURNAL, {"event": "reverted", "fault_id": fault.fault_id, "ts": time.time(), "by": by,
                             "action": fault.action})
        run.mark("fault.reverted", fault_id=fault.fault_id, action=fault.action, by=by)
    return done
