"""Post-processing of a run, exactly once: the safety net, the journal, the end time, the summary, the reports.

The aftershock control owns it (its after-experiment hook, under ``aftershock run`` and plain ``chaos run``
alike); ``aftershock run``, a game-day step whose run was killed and the pytest plugin call :func:`finish_run`
too, for the runs the control never got to finish. A claim file in the run folder (:data:`FINISH_CLAIM`) makes
every call after the first one a no-op that returns the summary written.

Example::

    summary = finish_run(run, journal=journal, by="aftershock run")
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from aftershock.core.errors import RunFolderUnwritable
from aftershock.core.journal import outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.measurements import ReportError, record_measurement
from aftershock.core.plan import mark_ended, read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.core.verdict import Summary, read_summary
from aftershock.faults.registry import driver_for
from aftershock.faults.reverts import revert_outstanding
from aftershock.summary import write_summary

FINISH_CLAIM = "finish.claim"
_log = logging.getLogger("aftershock")


class Stoppable(Protocol):
    def stop(self) -> None: ...


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while restoring the target: a half-done revert is worse than a late exit."""
    try:
        old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield
        return
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def safety_net(run: RunFolder, target: Target) -> list[str]:
    """Revert every fault of ``run`` that is still injected and wait for the target's baseline."""
    if not outstanding(run):
        return []
    with _signals_deferred(), contextlib.closing(driver_for(target, run=run)) as driver:
        done = revert_outstanding(run, driver, by="safety-net")
        driver.wait_healthy(target.health_wait_s)  # the target's own health checks (aws.health_wait_s)
    return done


def write_reports_safely(run: RunFolder) -> None:
    """report.html, report.md, junit.xml and a history record; a report failure never hides the summary."""
    from aftershock.reports import write_reports

    try:
        write_reports(run.path)
    except Exception as exc:
        record_measurement(run, ReportError(ts=time.time(), error=str(exc)))
        _log.exception("writing the reports failed")


def finish_run(run: RunFolder, *, by: str, journal: Mapping[str, Any] | None = None,
               session: Stoppable | None = None) -> Summary:
    """Post-process ``run`` once (see the module docstring); later calls return the summary already written.

    ``session`` (the load, ledger and sampler) is stopped after the safety net and before the summary. A failed
    safety net is an error of the summary (the faults stay in the journal for ``aftershock recover``). A run
    folder that stopped taking writes raises :class:`RunFolderUnwritable` once the faults are reverted and the
    session stopped (nothing more can be written).
    """
    if not run.claim(FINISH_CLAIM):
        if session is not None:
            session.stop()
        if run.write_failure is not None:
            raise run.unwritable()
        return read_summary(run) or write_summary(run)  # the first one was cut short before its summary
    plan = read_plan(run)
    errors: list[str] = []
    try:
        safety_net(run, plan.snapshot)
    except Exception as exc:
        _log.exception("the safety net failed")
        errors.append(f"the safety net failed ({type(exc).__name__}: {exc}): run `aftershock recover {run.path}`")
    finally:
        if session is not None:
            session.stop()
    if run.write_failure is not None:  # the faults were reverted from the journal kept in memory
        run.mark(MarkerKind.RUN_FINISHED, by=by)
        if errors:
            raise RunFolderUnwritable(f"the run folder {run.path} stopped taking writes ({run.write_failure}) and "
                                      f"{errors[0]}", path=str(run.path))
        raise run.unwritable()
    if journal is not None:
        run.write_json("journal.json", dict(journal))
    mark_ended(run)
    summary = write_summary(run, plan, errors)
    write_reports_safely(run)
    run.mark(MarkerKind.RUN_FINISHED, by=by)
    return summary


__all__ = ["FINISH_CLAIM", "finish_run", "safety_net", "write_reports_safely"]
