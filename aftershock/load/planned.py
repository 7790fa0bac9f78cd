"""The :class:`LoadConfig` of a run, from its plan (``run.json``): the resolved load settings, the user's
locustfile (or the built-in journeys) and the target's probe and HTTP settings.

Example::

    config = planned_load(plan, run.path)                       # the run's base load
    spike = planned_load(plan, run.path / "spike", users=100)   # a spike with the same workload
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aftershock.core.plan import RunPlan
from aftershock.core.workload import Transport
from aftershock.load.config import LoadConfig


def planned_load(plan: RunPlan, out_dir: Path, **changes: Any) -> LoadConfig:
    """The load of ``plan`` into ``out_dir``; ``changes`` replace single fields (users, duration_s, ...)."""
    settings, workload = plan.load, plan.snapshot.load
    values: dict[str, Any] = {
        "url": plan.snapshot.front_door.url, "out_dir": out_dir, "users": settings.users,
        "spawn_rate": settings.spawn_rate, "duration_s": settings.load_duration_s + settings.soak_s,
        "shape": settings.shape,
        "workers": settings.workers, "task_rate": settings.task_rate,
        "remote_workers": settings.remote_workers, "master_bind_host": settings.master_bind_host,
        "master_port": settings.master_port, "startup_grace_s": settings.worker_grace_s,
        "connect_timeout_s": settings.connect_timeout_s, "response_timeout_s": settings.response_timeout_s,
        "fresh_rate": workload.probe.rate,
        "locustfile": Path(settings.locustfile) if settings.locustfile else None,
        "transport": Transport.of(workload),
    }
    values.update(changes)
    return LoadConfig(**values)


__all__ = ["planned_load"]
