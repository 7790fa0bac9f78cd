"""Why a run's steady state deviated, in words: each hypothesis probe that missed its tolerance, with what the SLO
probes measured (value, limit, window, requests) and how late the load generator's own loop ran in that window.

A p95 over its limit while Locust's loop lagged by a good part of it is not a plain verdict on the service: the
measured latencies include the generator's own delay. The run still fails (an SLO probe that cannot tell fails),
but the line says so, and what to change. Example::

    after the method: p95-latency-within-slo: p95 567 ms > 500 ms over the last 3 s (45 requests); the load
    generator's own loop lagged up to 142 ms in that window: up to that much of each latency may be the harness's
    own delay (give Locust more CPU or fewer users)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aftershock.core.measurements import SloErrorRate, SloP95, SloWindow, read_measurements
from aftershock.core.runfolder import RunFolder

LAG_SHARE = 0.1  # a loop lag above this share of the p95 limit is named next to a missed p95
_PHASES = (("before", "before the method"), ("after", "after the method"))
_SLO_FUNCS: dict[str, type[SloWindow]] = {"error_rate_within": SloErrorRate, "p95_latency_within": SloP95}


def deviations(run: RunFolder, journal: Mapping[str, Any]) -> list[str]:
    """One line per hypothesis probe of ``journal`` that missed its tolerance (empty when none did)."""
    states = journal.get("steady_states") or {}
    slo = [m for m in read_measurements(run) if isinstance(m, SloWindow)]
    lines = []
    for phase, label in _PHASES:
        for probe in (states.get(phase) or {}).get("probes") or ():
            if probe.get("tolerance_met", True):
                continue
            activity = probe.get("activity") or {}
            name = str(activity.get("name") or "?")
            kind = _SLO_FUNCS.get(str((activity.get("provider") or {}).get("func") or ""))
            found = _measured(slo, kind, probe) if kind else None
            lines.append(f"{label}: {name}: {describe(found) if found else 'did not meet its tolerance'}")
    return lines


def _measured(slo: Sequence[SloWindow], kind: type[SloWindow], probe: Mapping[str, Any]) -> SloWindow | None:
    """The SLO measurement the probe recorded as it ended (between its start and end, as the journal says)."""
    start, end = _epoch(probe.get("start")), _epoch(probe.get("end"))
    if start is None or end is None:
        return None
    inside = [m for m in slo if type(m) is kind and start - 0.5 <= m.ts <= end + 0.5]
    return inside[-1] if inside else None


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return None


def describe(measured: SloWindow) -> str:
    """What an SLO probe measured, and the generator's lag when it may explain a missed p95."""
    window = f"over the last {measured.window_s:g} s ({measured.requests} requests)"
    if measured.value is None:
        return f"too few requests to judge {window}"
    if isinstance(measured, SloP95):
        text = f"p95 {measured.value:.0f} ms {'>' if not measured.met else '<='} {measured.limit:g} ms {window}"
        lag = measured.generator_lag_ms
        if not measured.met and lag is not None and lag >= LAG_SHARE * measured.limit:
            text += (f"; the load generator's own loop lagged up to {lag:.0f} ms in that window: up to that much of "
                     "each latency may be the harness's own delay (give Locust more CPU or fewer users)")
        return text
    return f"error rate {measured.value:.1%} {'>' if not measured.met else '<='} {measured.limit:.1%} {window}"


__all__ = ["describe", "deviations"]
