"""The aftershock Chaos Toolkit control: load, ledger and samplers around the experiment, markers for every step.

Declared in each experiment::

    controls:
      - name: aftershock
        provider: {type: python, module: aftershock.control}

Before the experiment (not at configuration: Chaos Toolkit hides errors raised there) it opens the run: the
runner's run folder and plan (``run.json``), or under plain ``chaos run`` a new run folder with a plan resolved
from the experiment's configuration. Then it starts the run session (load, RPO ledger, sampler) before the
steady-state hypothesis, writes a marker for the start and end of every activity, the method and the
rollbacks, and after the experiment owns the post-processing (:func:`aftershock.finish.finish_run`: safety
net, session stopped, journal, summary, reports), whoever started the run. Chaos Toolkit calls controls as
module functions, so the run of this process lives in :data:`_ACTIVE` (set before the experiment, cleared in
``cleanup_control``).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from aftershock.core.errors import AftershockError
from aftershock.core.kinds import MarkerKind
from aftershock.core.runfolder import RunFolder
from aftershock.finish import finish_run
from aftershock.planning import open_run
from aftershock.session import RunSession


class _Active:
    """Holder of the run and its session (Chaos Toolkit gives controls no place to keep state)."""

    run: RunFolder | None = None
    session: RunSession | None = None
    error: str | None = None  # why the session could not start


_ACTIVE = _Active()
# Chaos Toolkit's own console logger: what a plain `chaos run` prints
_CHAOS_LOG = logging.getLogger("chaostoolkit")


def current_session() -> RunSession | None:
    return _ACTIVE.session


def configure_control(configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None,
                      settings: dict[str, Any] | None = None, experiment: dict[str, Any] | None = None,
                      **_: Any) -> None:
    """Nothing starts here: Chaos Toolkit swallows errors raised at configuration (and drops the control)."""


def before_experiment_control(context: Any, configuration: dict[str, Any] | None = None,
                              **_: Any) -> None:
    """Start load, ledger and sampler; a failure aborts the experiment before any fault (exit code 2 under
    ``aftershock run``)."""
    experiment = context if isinstance(context, dict) else None
    try:
        run, plan = open_run(configuration, experiment)
        _ACTIVE.run = run
        _ACTIVE.session = RunSession.begin(run, plan)
    except Exception as exc:
        from chaoslib.exceptions import InterruptExecution

        _ACTIVE.error = f"{type(exc).__name__}: {exc}"
        raise InterruptExecution(f"aftershock could not start the run: {exc}") from exc
    _record_signals(run)


def _record_signals(run: RunFolder) -> None:
    """Mark Ctrl-C/SIGTERM in the run before Chaos Toolkit's own handling (which may swallow it in a rollback),
    so the summary can say the run was interrupted."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            run.mark(MarkerKind.RUN_INTERRUPTED, signal=signal.Signals(signum).name)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt

        signal.signal(sig, handler)


def _mark(kind: MarkerKind, **fields: Any) -> None:
    """A marker in the running session's folder (none before the session started or after it ended)."""
    if _ACTIVE.session is not None:
        _ACTIVE.session.run.mark(kind, **fields)


def _activity_fields(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    provider = context.get("provider") or {}
    fields = {"name": context.get("name"), "type": context.get("type"), "func": provider.get("func")}
    if context.get("aftershock_role"):
        fields["role"] = context.get("aftershock_role")  # faults read it into their fault.start marker
    return fields


def before_activity_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.ACTIVITY_START, **_activity_fields(context))


def after_activity_control(context: Any, state: Any = None, **_: Any) -> None:
    status = state.get("status") if isinstance(state, dict) else None
    _mark(MarkerKind.ACTIVITY_END, status=status, **_activity_fields(context))


def before_hypothesis_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.HYPOTHESIS_START)


def after_hypothesis_control(context: Any, state: Any = None, **_: Any) -> None:
    met = state.get("steady_state_met") if isinstance(state, dict) else None
    _mark(MarkerKind.HYPOTHESIS_END, met=met)


def before_method_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.METHOD_START)


def after_method_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.METHOD_END)


def before_rollback_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.ROLLBACKS_START)


def after_rollback_control(context: Any, **_: Any) -> None:
    _mark(MarkerKind.ROLLBACKS_END)


def after_experiment_control(context: Any, state: Any = None, configuration: dict[str, Any] | None = None,
                             **_: Any) -> None:
    """Post-process the run, once: safety net, session stopped, journal, summary and reports (also under plain
    ``chaos run``; a run whose session never started still gets its summary).

    A post-processing that fails (the run folder stopped taking writes) must not pass unseen under plain
    ``chaos run``: Chaos Toolkit logs a control's exception at debug level only and, when the run was
    interrupted inside an activity (SIGTERM), still calls it "completed". So the reason is logged on its console
    and the journal's status becomes ``interrupted`` (also after a signal), which makes ``chaos run`` exit 1."""
    if _ACTIVE.run is None:
        return
    journal = state if isinstance(state, dict) else None
    try:
        summary = finish_run(_ACTIVE.run, by="control", journal=journal, session=_ACTIVE.session)
    except AftershockError as exc:
        _CHAOS_LOG.error("aftershock: %s", exc)
        if journal is not None:
            journal["status"] = "interrupted"
        raise
    if journal is not None and summary.status == "interrupted":
        journal["status"] = "interrupted"  # a signal that Chaos Toolkit turned into a failed activity


def cleanup_control(**_: Any) -> None:
    session = _ACTIVE.session
    _ACTIVE.run = None
    _ACTIVE.session = None
    _ACTIVE.error = None
    if session is not None:
        session.stop()
