"""Chaos Toolkit action: a load spike (the "fault" of the scale-out scenario).

An extra Locust process, bounded by ``duration_s``, drives the shop on top of the base load. Its timeline joins
the run's (``timeline-spike.jsonl``), so SLO, RTO and latency probes see all traffic. It ends by itself; the run
session also stops it at the end of the run.
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.kinds import MarkerKind
from aftershock.faults.context import ActivityContext, plan_of
from aftershock.load.planned import planned_load
from aftershock.load.session import LoadSession

__all__ = ["load_spike"]


def load_spike(users: int = 100, duration_s: float = 30.0, task_rate: float = 2.0,
               configuration: dict[str, Any] | None = None, secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add ``users`` shop users (``task_rate`` tasks/s each) for ``duration_s`` seconds, starting now."""
    if users < 1 or duration_s < 1:
        raise FaultRefused(f"load_spike needs users >= 1 and duration_s >= 1, got users={users}, "
                           f"duration_s={duration_s}")
    from aftershock.control import current_session

    session = current_session()
    if session is None:
        raise HarnessError("load_spike needs the aftershock control: declare it in the experiment's controls")
    with ActivityContext.from_configuration(configuration) as ctx:  # its target and run only: the driver is closed
        out = ctx.run.path / "spike"
    config = planned_load(plan_of(ctx.run), out, users=users, spawn_rate=float(users), duration_s=duration_s,
                          task_rate=task_rate, fresh_rate=1.0, shape="steady", workers=0, remote_workers=0,
                          master_port=None)  # the run's workload, one local process
    link = ctx.run.path / "timeline-spike.jsonl"
    if not link.exists():
        out.mkdir(parents=True, exist_ok=True)
        (out / "timeline.jsonl").touch()  # a dangling link would make the run's timeline unreadable
        link.symlink_to(out / "timeline.jsonl")
    started = ctx.run.mark(MarkerKind.FAULT_START, action="load_spike", args={"users": users, "duration_s": duration_s})
    spike = LoadSession.start(config, log_name="locust-spike.log")
    session.extra_loads.append(spike)
    ctx.run.mark(MarkerKind.FAULT_END, action="load_spike", description=f"+{users} users for {duration_s:g} s")
    return {"action": "load_spike", "users": users, "duration_s": duration_s, "started_at": started}
