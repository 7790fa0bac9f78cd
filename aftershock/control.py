"""The aftershock Chaos Toolkit control: load, ledger and samplers around the experiment, markers for every step.

Declared in each experiment::

    controls:
      - name: aftershock
        provider: {type: python, module: aftershock.control}

It starts the run session (load, RPO ledger, sampler) before the experiment (not at configuration: Chaos
Toolkit hides errors raised there), before the steady-state hypothesis, writes a marker for
the start and end of every activity, the method and the rollbacks, and after the experiment stops the session
and writes the journal and the summary into the run folder. Chaos Toolkit calls controls as module functions,
so the one session of this process lives in :data:`_ACTIVE` (set in ``configure_control``, cleared in
``cleanup_control``).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from aftershock.core.runfolder import RunFolder
from aftershock.session import RunSession


class _Active:
    """Holder of the running session (Chaos Toolkit gives controls no place to keep state)."""

    session: RunSession | None = None
    error: str | None = None  # why the session could not start


_ACTIVE = _Active()


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
        _ACTIVE.session = RunSession.begin(configuration, experiment)
    except Exception as exc:
        from chaoslib.exceptions import InterruptExecution

        _ACTIVE.error = f"{type(exc).__name__}: {exc}"
        raise InterruptExecution(f"aftershock could not start the run: {exc}") from exc
    _record_signals(_ACTIVE.session.run)


def _record_signals(run: RunFolder) -> None:
    """Mark Ctrl-C/SIGTERM in the run before Chaos Toolkit's own handling (which may swallow it in a rollback),
    so the summary can say the run was interrupted."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            run.mark("run.interrupted", signal=signal.Signals(signum).name)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt

        signal.signal(sig, handler)


def _mark(kind: str, **fields: Any) -> None:
    """A marker in the running session's folder (none before the session started or after it ended)."""
    if _ACTIVE.session is not None:
        _ACTIVE.session.run.mark(kind, **fields)


def _activity_fields(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    provider = context.get("provider") or {}
    return {"name": context.get("name"), "type": context.get("type"), "func": provider.get("func")}


def before_activity_control(context: Any, **_: Any) -> None:
    _mark("activity.start", **_activity_fields(context))


def after_activity_control(context: Any, state: Any = None, **_: Any) -> None:
    status = state.get("status") if isinstance(state, dict) else None
    _mark("activity.end", status=status, **_activity_fields(context))


def before_hypothesis_control(context: Any, **_: Any) -> None:
    _mark("hypothesis.start")


def after_hypothesis_control(context: Any, state: Any = None, **_: Any) -> None:
    met = state.get("steady_state_met") if isinstance(state, dict) else None
    _mark("hypothesis.end", met=met)


def before_method_control(context: Any, **_: Any) -> None:
    _mark("method.start")


def after_method_control(context: Any, **_: Any) -> None:
    _mark("method.end")


def before_rollback_control(context: Any, **_: Any) -> None:
    _mark("rollbacks.start")


def after_rollback_control(context: Any, **_: Any) -> None:
    _mark("rollbacks.end")


def after_experiment_control(context: Any, state: Any = None, configuration: dict[str, Any] | None = None,
                             **_: Any) -> None:
    """Stop the session, then write the journal and the summary (also under plain ``chaos run``)."""
    session = _ACTIVE.session
    if session is None:
        return
    from aftershock.runner import safety_net

    try:
        safety_net(session.run, session.target)
    finally:
        session.stop()
    if isinstance(state, dict):
        session.run.write_json("journal.json", state)
    from aftershock.summary import write_summary

    write_summary(session.run, configuration)
    if session.run.read_json("run.json").get("runner") == "chaos run":  # `aftershock run` writes its own
        from aftershock.runner import write_reports_safely

        write_reports_safely(session.run)


def cleanup_control(**_: Any) -> None:
    session = _ACTIVE.session
    _ACTIVE.session = None
    _ACTIVE.error = None
    if session is not None:
        session.stop()
