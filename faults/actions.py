"""Chaos Toolkit actions: target-agnostic faults and their rollbacks.

Each fault validates its arguments against the target before changing anything, writes ``fault.start`` /
``fault.end`` markers, and records its reverts in the run's fault journal before returning. ``revert_faults``
is the universal rollback.

The RTO clock starts at the first disruption of the method. A fault action that is a step of the recovery
runbook declares ``aftershock_role: remediation``: its ``fault.start`` carries that role (taken from the
``activity.start`` marker the aftershock control writes) and never restarts the clock.

Usage in an experiment::

    method:
      - type: action
        name: lose-an-az
        provider: {type: python, module: aftershock.faults.actions, func: az_outage, arguments: {az: ""}}
      - type: action
        name: evacuate-the-region
        aftershock_role: remediation
        provider: {type: python, module: aftershock.faults.actions, func: set_traffic_dial, arguments: {dial: 0}}
      - type: action
        name: zonal-shift-away   # on AWS: ARC zonal shift of the load balancers away from the lost AZ
        aftershock_role: remediation
        provider: {type: python, module: aftershock.faults.actions, func: start_zonal_shift, arguments: {az: ""}}
    rollbacks:
      - type: action
        name: revert-faults
        provider: {type: python, module: aftershock.faults.actions, func: revert_faults}
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from aftershock.core.errors import AftershockError, FaultRefused, HarnessError
from aftershock.core.journal import outstanding
from aftershock.core.kinds import FaultRole, MarkerKind
from aftershock.core.measurements import read_markers
from aftershock.core.runfolder import RunFolder
from aftershock.faults.context import ActivityContext
from aftershock.faults.outcome import FaultOutcome
from aftershock.faults.reverts import drop_intent, journal_intent, record_injected, revert_outstanding

__all__ = [
    "az_outage",
    "crash_writer",
    "cut_replication",
    "failover_global_database",
    "kill_pods",
    "revert_faults",
    "set_traffic_dial",
    "start_zonal_shift",
    "switchover_global_database",
    "wait_until_healthy",
]

Configuration = dict[str, Any] | None
Secrets = dict[str, Any] | None


Apply = Callable[[], FaultOutcome]


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a fault is applied and journaled, then deliver them to the run's own
    handlers (which roll the now-journaled fault back). Faults take well under a second on the lab."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
        for signum in pending:
            os.kill(os.getpid(), signum)


def activity_role(run: RunFolder, action: str) -> FaultRole:
    """The role the running activity declared (``aftershock_role`` on its ``activity.start`` marker) when that
    activity is ``action``; a disruption otherwise."""
    starts = [m for m in read_markers(run) if m.kind is MarkerKind.ACTIVITY_START]
    if starts and starts[-1].get("func") == action and starts[-1].get("role") == FaultRole.REMEDIATION:
        return FaultRole.REMEDIATION
    return FaultRole.DISRUPTION


def _inject(action: str, configuration: Configuration, prepare: Callable[[ActivityContext], Apply],
            **args: Any) -> dict[str, Any]:
    """Validate (``prepare`` resolves and checks every argument, changing nothing), then mark and apply.

    A fault the driver refuses or fails half-way gets a ``fault.aborted`` marker, so no probe measures from it.
    """
    with ActivityContext.from_configuration(configuration) as ctx, contextlib.ExitStack() as held:
        try:
            apply = prepare(ctx)
        except AftershockError as exc:  # the refusal names its fault and target for whoever reports it
            exc.with_context(target=ctx.target.name, fault=action)
            raise
        intent = None
        if not ctx.driver.journals_in_flight:
            # a fault applied but not journaled could never be reverted; a driver that journals every step in
            # flight (AWS) stays interruptible instead: Ctrl-C during a long wait starts the rollback at once
            held.enter_context(_signals_held())
            # and SIGKILL, which nothing holds: until the fault's own entry, a return to the baseline reverts it
            intent = journal_intent(ctx.run, action)
        role = activity_role(ctx.run, action)
        started = ctx.run.mark(MarkerKind.FAULT_START, action=action, args=args, role=role.value)
        try:
            outcome = apply()
            if intent is not None:
                outcome = dataclasses.replace(outcome, in_flight_id=intent)
        except BaseException as exc:
            if intent is not None and isinstance(exc, FaultRefused):  # refused: nothing changed
                drop_intent(ctx.run, intent, action)
            ctx.run.mark(MarkerKind.FAULT_ABORTED, action=action, started_at=started,
                         error=f"{type(exc).__name__}: {exc}")
            if isinstance(exc, AftershockError):
                exc.with_context(target=ctx.target.name, fault=action)
            raise
        with _signals_held():  # the short critical section that records the fault
            # journaled first: a harness killed (SIGKILL) once fault.end is written has left the fault to recover
            fault_id = record_injected(ctx.run, action, outcome, started)
            ended = ctx.run.mark(MarkerKind.FAULT_END, action=action, description=outcome.description)
    return {"fault_id": fault_id, "action": action, "description": outcome.description,
            "details": outcome.details, "role": role.value, "started_at": started, "ended_at": ended,
            "reverts": [c.method for c in outcome.reverts]}


def _region_or(ctx: ActivityContext, region: str, default: str) -> str:
    return ctx.target.region(region or default).name


def _secondary(ctx: ActivityContext) -> str:
    if ctx.target.secondary is None:
        raise FaultRefused(f"target {ctx.target.name!r} has no secondary region: this fault needs two regions")
    return ctx.target.secondary.name


def az_outage(az: str = "", configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """The primary region loses one AZ: its pods and database node die, its load-balancer targets go away
    and nothing is scheduled there. ``az`` empty: the AZ that holds the database writer."""

    def call(ctx: ActivityContext) -> Apply:
        chosen = az
        if not chosen:
            writer = ctx.driver.observe().writer
            instances = [i for c in (ctx.target.database.clusters if ctx.target.database else ()) for i in c.instances]
            chosen = next((i.az for i in instances if i.name == writer), ctx.target.primary.azs[0])
        ctx.target.az(chosen)
        return lambda: ctx.driver.az_outage(chosen)

    return _inject("az_outage", configuration, call, az=az)


def kill_pods(region: str = "", percent: float = 0.0, count: int = 0, az: str = "",
              configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Kill shop pods in ``region`` (default: the primary): ``percent`` of them (rounded up) or ``count``."""
    if (percent > 0) == (count > 0) or percent > 100 or count < 0:
        raise FaultRefused(f"kill_pods needs exactly one of percent (0-100] or count (>= 1), got percent={percent:g}, "
                           f"count={count}")

    def call(ctx: ActivityContext) -> Apply:
        name = _region_or(ctx, region, ctx.target.primary.name)
        if az and az not in ctx.target.region(name).azs:
            raise FaultRefused(f"kill_pods: AZ {az!r} is not in region {name}: use one of "
                               f"{', '.join(ctx.target.region(name).azs)}")
        return lambda: ctx.driver.kill_pods(name, az=az or None, count=count or None, percent=percent or None)

    return _inject("kill_pods", configuration, call, region=region, percent=percent, count=count, az=az)


def crash_writer(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Crash the database writer; the in-region reader must take over."""
    return _inject("crash_writer", configuration, lambda ctx: ctx.driver.crash_writer)


def failover_global_database(to_region: str = "", configuration: Configuration = None,
                             secrets: Secrets = None) -> dict[str, Any]:
    """Unplanned global failover: the writer's region is lost, ``to_region`` (default: the secondary) is
    promoted; data loss allowed. Reverted by rebuilding the lost region and switching back."""

    def call(ctx: ActivityContext) -> Apply:
        name = _region_or(ctx, to_region, "" if to_region else _secondary(ctx))
        return lambda: ctx.driver.failover_global_database(name)

    return _inject("failover_global_database", configuration, call, to_region=to_region)


def switchover_global_database(to_region: str = "", configuration: Configuration = None,
                               secrets: Secrets = None) -> dict[str, Any]:
    """Planned global switchover to ``to_region`` (default: the secondary); no data loss."""

    def call(ctx: ActivityContext) -> Apply:
        name = _region_or(ctx, to_region, "" if to_region else _secondary(ctx))
        return lambda: ctx.driver.switchover_global_database(name)

    return _inject("switchover_global_database", configuration, call, to_region=to_region)


def set_traffic_dial(region: str = "", dial: int = 0, configuration: Configuration = None,
                     secrets: Secrets = None) -> dict[str, Any]:
    """Set the front door's traffic dial of ``region`` (default: the primary) to ``dial`` percent."""
    if not isinstance(dial, int) or isinstance(dial, bool) or not 0 <= dial <= 100:
        raise FaultRefused(f"set_traffic_dial: dial must be an integer 0-100, got {dial!r}")

    def call(ctx: ActivityContext) -> Apply:
        name = _region_or(ctx, region, ctx.target.primary.name)
        return lambda: ctx.driver.set_traffic_dial(name, dial)

    return _inject("set_traffic_dial", configuration, call, region=region, dial=dial)


def start_zonal_shift(az: str = "", resources: list[str] | None = None, expires_in: str = "1h",
                      configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Remediation (declare it ``aftershock_role: remediation``): shift traffic away from ``az`` with an ARC zonal
    shift of ``resources`` (default: the region's load balancers with an ``arn``) for ``expires_in`` (``1m``-
    ``72h``). ``az`` empty: the AZ an earlier fault took down. Reverted (cancelled) by ``revert_faults``."""

    def call(ctx: ActivityContext) -> Apply:
        chosen = az
        if not chosen:
            down = ctx.driver.observe().azs_down
            if not down:
                raise FaultRefused("start_zonal_shift: no az given and no AZ of the target is down: pass az")
            chosen = down[0]
        ctx.target.az(chosen)
        return lambda: ctx.driver.start_zonal_shift(chosen, resources=list(resources or []) or None,
                                                    expires_in=expires_in)

    return _inject("start_zonal_shift", configuration, call, az=az, resources=list(resources or []),
                   expires_in=expires_in)


def cut_replication(region: str = "", configuration: Configuration = None,
                    secrets: Secrets = None) -> dict[str, Any]:
    """Cut replication into ``region`` (default: the secondary): later writes never reach it."""

    def call(ctx: ActivityContext) -> Apply:
        name = _region_or(ctx, region, "" if region else _secondary(ctx))
        return lambda: ctx.driver.cut_replication(name)

    return _inject("cut_replication", configuration, call, region=region)


def revert_faults(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Rollback: revert every fault this run injected that is not reverted yet (newest first)."""
    with ActivityContext.from_configuration(configuration) as ctx:
        done = revert_outstanding(ctx.run, ctx.driver, by="rollback")
    return {"reverted": done}


def wait_until_healthy(timeout_s: float = 120.0, configuration: Configuration = None,
                       secrets: Secrets = None) -> dict[str, Any]:
    """Rollback: wait until the target is back to its baseline (replicas ready, writer home, dials).

    Refused at once while faults of the run are still injected: the baseline cannot come back (a revert that was
    interrupted, by SIGTERM during the rollback, or no ``revert_faults`` rollback before this one), and waiting
    would only delay the safety net that reverts them."""
    with ActivityContext.from_configuration(configuration) as ctx:
        left = outstanding(ctx.run)
        if left:
            raise HarnessError(f"not waiting for the baseline: {len(left)} fault(s) of this run still injected "
                               f"({', '.join(f.action for f in left)}): their revert did not run or was "
                               "interrupted; the safety net reverts them (an experiment needs the revert_faults "
                               "rollback before wait_until_healthy)", path=str(ctx.run.path))
        started = time.time()
        observation = ctx.driver.wait_healthy(timeout_s)
        ctx.run.mark(MarkerKind.TARGET_HEALTHY, waited_s=round(time.time() - started, 3))
    return {"healthy": observation.healthy, "waited_s": round(time.time() - started, 3), "writer": observation.writer}
