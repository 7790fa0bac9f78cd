"""The fault journal (``faults.jsonl`` in the run folder): every injected fault with its reverts.

Written *before* the run moves on, so whatever happens next (a failed probe, Ctrl-C, SIGTERM, a crash of the
harness) the outstanding faults can be found and reverted: by the experiment's rollback, by the harness's
safety net at the end of ``aftershock run``, or later by ``aftershock recover RUN_FOLDER``.

:class:`FaultJournal` is the one writer of its records::

    {"event": "injected", "fault_id", "action", "ts", "description", "details", "reverts": [{method, args}],
     "supersedes": IN_FLIGHT_ID (optional)}
    {"event": "reverted", "fault_id", "action", "ts", "by"}

An *in-flight* entry (``details.in_flight``) holds the reverts of a fault still being injected; it is rewritten
under the same ``fault_id`` before each step. It stays outstanding after the driver returned, until the fault's own
entry takes over: that entry names it in ``supersedes`` (one appended line, so there is no moment when neither
is outstanding: a harness killed between the driver's return and the journal still has the in-flight reverts).

The process that writes the journal also keeps it in memory: when the run folder stops taking writes (a full disk)
its outstanding faults are still known, and reverted, before the run exits.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftershock.core.errors import FormatError
from aftershock.core.runfolder import RunFolder

JOURNAL = "faults.jsonl"


@dataclass(frozen=True)
class RevertCall:
    """The driver call that reverses a fault: ``getattr(driver, method)(**args)``."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InjectedFault:
    fault_id: str
    action: str
    description: str
    injected_at: float
    reverts: tuple[RevertCall, ...]


class FaultJournal:
    """Reads and writes the fault journal of one run folder."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run

    def __repr__(self) -> str:
        return f"FaultJournal({self.run!r})"

    def injected(self, action: str, description: str, reverts: Sequence[RevertCall], *,
                 details: Mapping[str, Any] | None = None, ts: float | None = None,
                 fault_id: str | None = None, supersedes: str | None = None) -> str:
        """Record a fault and the calls that revert it; returns its id. ``supersedes``: the id of the fault's
        in-flight entry, no longer outstanding once this record is written."""
        fault_id = fault_id or uuid.uuid4().hex[:12]
        record: dict[str, Any] = {
            "event": "injected", "fault_id": fault_id, "action": action,
            "ts": time.time() if ts is None else ts, "description": description, "details": dict(details or {}),
            "reverts": [{"method": c.method, "args": c.args} for c in reverts],
        }
        if supersedes:
            record["supersedes"] = supersedes
        self.run.append(JOURNAL, record, remember=True)
        return fault_id

    def in_flight(self, fault_id: str, action: str, reverts: Sequence[RevertCall]) -> None:
        """Record (again) the reverts of a fault still being injected: a crash now leaves them outstanding."""
        self.injected(f"{action} (in flight)", f"{action}: injection in progress", reverts,
                      details={"in_flight": True}, fault_id=fault_id)

    def reverted(self, fault_id: str, action: str, *, by: str) -> None:
        """Record that a fault no longer needs reverting (reverted, or handed over to another entry)."""
        self.run.append(JOURNAL, {"event": "reverted", "fault_id": fault_id, "ts": time.time(), "by": by,
                                  "action": action}, remember=True)

    def outstanding(self) -> list[InjectedFault]:
        """Injected faults that have reverts and were not reverted yet, oldest first. A half-written last line
        is skipped; any other broken line is a :class:`FormatError` (guessing what is injected is not safe)."""
        injected: dict[str, InjectedFault] = {}
        done = 0  # lines applied
        try:
            for record in self.run.records(JOURNAL):
                _apply(injected, record)
                done += 1
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            path = self.run.file(JOURNAL)
            raise FormatError(f"{path} line {done + 1} is not a fault record aftershock writes "
                              f"({type(exc).__name__}: {exc}): revert by hand what that run injected (see its "
                              "markers.jsonl), then remove the line", path=str(path)) from exc
        return list(injected.values())


def _apply(injected: dict[str, InjectedFault], record: Mapping[str, Any]) -> None:
    """One journal record applied to the faults still injected (by fault id)."""
    event = record["event"]
    if event == "injected" and record.get("supersedes"):
        injected.pop(str(record["supersedes"]), None)
    if event == "injected" and record["reverts"]:
        reverts = tuple(RevertCall(str(c["method"]), dict(c["args"])) for c in record["reverts"])
        injected[str(record["fault_id"])] = InjectedFault(
            str(record["fault_id"]), str(record["action"]), str(record["description"]), float(record["ts"]), reverts)
    elif event == "reverted":
        injected.pop(str(record["fault_id"]), None)


def outstanding(run: RunFolder) -> list[InjectedFault]:
    """Injected faults of ``run`` not reverted yet, oldest first."""
    return FaultJournal(run).outstanding()
