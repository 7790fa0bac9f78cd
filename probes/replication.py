"""Replication lag probe: are the readers (of a region) close enough behind the writer?

Aurora Global Database publishes lag "typically under 1 s"; the lab measures it from WAL positions (a replica
that has replayed everything has 0 s lag, however long ago the last write was).
"""

from __future__ import annotations

import time
from typing import Any

from aftershock.core.measurements import ReplicationLagMeasurement
from aftershock.faults.context import ActivityContext
from aftershock.probes.live import record

__all__ = ["replication_lag_within"]


def replication_lag_within(max_lag_s: float = 1.0, region: str = "", configuration: dict[str, Any] | None = None,
                           secrets: dict[str, Any] | None = None) -> bool:
    """True when every live reader (of ``region``, default: all) is at most ``max_lag_s`` behind the writer.

    A reader whose lag cannot be measured (down, rebuilding) is not counted; no measurable reader at all is False.
    """
    with ActivityContext.from_configuration(configuration) as ctx:
        observation = ctx.driver.observe()
        wanted = _readers_in(ctx, region) if region else None
    lags = {name: lag for name, lag in observation.replication_lag_s.items()
            if lag is not None and (wanted is None or name in wanted)}
    worst = max(lags.values()) if lags else None
    ok = worst is not None and worst <= max_lag_s
    record(ctx.run, ReplicationLagMeasurement(ts=time.time(), lag_s=lags, worst_s=worst, limit_s=max_lag_s, met=ok,
                                              region=region or None))
    return ok


def _readers_in(ctx: ActivityContext, region: str) -> set[str]:
    name = ctx.target.region(region).name
    clusters = ctx.target.database.clusters if ctx.target.database else ()
    return {i.name for c in clusters if c.region == name for i in c.instances}
