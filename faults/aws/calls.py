"""The call recorder: every API call the driver makes goes through it.

- Reads run (also in a dry run: planning needs them) and are listed in a dry run.
- A mutating call is checked by the guardrails for its region, then written to ``aws-calls.jsonl`` in the run
  folder (``event: call``) *before* it is made, then ``done`` or ``failed`` after. In a dry run it is only
  listed (``event: planned``) and ``dry_result`` stands in for its answer.
- While a fault runs, :meth:`CallRecorder.fault` keeps an *in-flight* entry in the fault journal
  (``faults.jsonl``) holding the reverts of the steps started so far, updated before each step. A crash of the
  harness in the middle of a fault therefore leaves an outstanding fault that ``aftershock recover`` reverts;
  a fault that fails halfway is reverted by the experiment's rollback. The in-flight entry stays outstanding after
  the fault returns: the driver hands its id over in ``FaultOutcome.in_flight_id`` and the fault's own journal
  entry (written by ``aftershock.faults.actions``) supersedes it, so a harness killed in between loses nothing.
  Reverts are idempotent, so reverting a step that never ran is harmless.
- Reverts run outside :meth:`CallRecorder.fault`: a revert never writes an in-flight entry, so an interrupted
  rollback leaves only the fault outstanding, and ``aftershock recover`` finishes the rollback (it never
  re-applies the fault).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aftershock.core.journal import FaultJournal
from aftershock.core.runfolder import RunFolder
from aftershock.faults.outcome import FaultOutcome, RevertCall

CALLS = "aws-calls.jsonl"
T = TypeVar("T")


@dataclass(frozen=True)
class ApiCall:
    """One call, as listed by a dry run."""

    service: str
    region: str
    operation: str
    params: dict[str, Any]
    mutating: bool

    def __str__(self) -> str:
        kind = "WRITE" if self.mutating else "read "
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{kind} {self.service}@{self.region} {self.operation}({args})"


@dataclass
class InFlight:
    """The reverts of a fault being injected, rewritten to the journal before each step."""

    recorder: CallRecorder
    action: str
    fault_id: str = field(default_factory=lambda: "inflight-" + uuid.uuid4().hex[:10])
    reverts: tuple[RevertCall, ...] = ()
    written: bool = False

    def set(self, *reverts: RevertCall) -> None:
        """The reverts that undo everything up to (and including) the next step."""
        self.reverts = reverts
        run = self.recorder.run
        if run is None or self.recorder.dry_run:
            return
        FaultJournal(run).in_flight(self.fault_id, self.action, reverts)
        self.written = True

    def hand_over(self, outcome: FaultOutcome) -> FaultOutcome:
        """``outcome``, naming this in-flight entry (outstanding until the fault's own entry supersedes it)."""
        return dataclasses.replace(outcome, in_flight_id=self.fault_id if self.written else None)


class CallRecorder:
    """Makes, records and (in a dry run) lists API calls."""

    def __init__(self, run: RunFolder | None, *, guard: Callable[[str, str], None], dry_run: bool = False,
                 echo: Callable[[str], None] | None = None) -> None:
        self.run = run
        self.dry_run = dry_run
        self.planned: list[ApiCall] = []
        self._guard = guard
        self._echo = echo
        self._fault: InFlight | None = None

    def __repr__(self) -> str:
        return f"CallRecorder(run={self.run!r}, dry_run={self.dry_run})"

    def _list(self, call: ApiCall) -> None:
        if self.dry_run:
            self.planned.append(call)
            if self._echo is not None:
                self._echo(f"dry run: {call}")

    def _write(self, event: str, call: ApiCall, **extra: Any) -> None:
        if self.run is not None:
            self.run.append(CALLS, {"ts": time.time(), "event": event, "fault": self._fault.fault_id
                                    if self._fault else None, "service": call.service, "region": call.region,
                                    "op": call.operation, "params": call.params, **extra})

    # -- boto3 ---------------------------------------------------------------------------------------
    def read(self, client: Any, operation: str, **params: Any) -> Any:
        """A read-only boto3 call (made in a dry run too)."""
        self._list(ApiCall(client.meta.service_model.service_name, client.meta.region_name, operation, params,
                           False))
        return getattr(client, operation)(**params)

    def write(self, client: Any, operation: str, *, dry_result: Any = None, **params: Any) -> Any:
        """A mutating boto3 call: guarded, recorded first, listed only in a dry run."""
        call = ApiCall(client.meta.service_model.service_name, client.meta.region_name, operation, params, True)
        return self.mutate(call, lambda: getattr(client, operation)(**params), dry_result)

    # -- anything (Kubernetes) -----------------------------------------------------------------------
    def mutate(self, call: ApiCall, do: Callable[[], T], dry_result: T) -> T:
        self._guard(call.region, call.service)
        if self.dry_run:
            self._list(call)
            self._write("planned", call)
            return dry_result
        self._write("call", call)
        try:
            result = do()
        except Exception as exc:
            self._write("failed", call, error=f"{exc.__class__.__name__}: {exc}")
            raise
        self._write("done", call)
        return result

    def observe(self, call: ApiCall) -> None:
        """List a read-only non-boto3 call in a dry run."""
        self._list(call)

    def note(self, line: str) -> None:
        """Say what a fault will touch or leave alone (echoed in a dry run, kept in ``aws-calls.jsonl``)."""
        if self.dry_run and self._echo is not None:
            self._echo(f"dry run: {line}")
        if self.run is not None:
            self.run.append(CALLS, {"ts": time.time(), "event": "note", "fault": self._fault.fault_id
                                    if self._fault else None, "note": line})

    @contextmanager
    def fault(self, action: str) -> Iterator[InFlight]:
        """Keep an in-flight journal entry while a fault is injected. It is not closed here: the fault's own
        entry supersedes it (see :meth:`InFlight.hand_over`), so it never leaves a gap."""
        inflight = InFlight(self, action)
        self._fault = inflight
        try:
            yield inflight
        finally:
            self._fault = None
