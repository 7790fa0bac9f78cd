"""The RTO phases as one stacked bar on the run's time axis, under the throughput chart: detection, failover,
client recovery (together the RTO), then warm-up; a stretch whose split is unknown is one grey segment saying
which phases it holds. Drawn only when the summary carries phases (``rto_phases``).

Example::

    svg = phases_chart(data, x0, x1, origin)   # '' when the run has no phases
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from aftershock.core.phases import RtoPhases
from aftershock.reports.model import ReportData
from aftershock.reports.svg import Frame

PHASE_COLORS = {"detection": "#f9a825", "failover": "#ef6c00", "client recovery": "#c62828", "warm-up": "#2e7d32",
                "unknown": "#9e9e9e"}


class _BarFrame(Frame):
    def y_ticks(self) -> list[float]:
        return []  # one bar: no value axis


def phase_segments(phases: RtoPhases) -> list[tuple[str, float, float]]:
    """``(label, start, end)`` (epoch s) from the disruption to the end of the warm-up; unknown boundaries merge
    their neighbours into one ``unknown (...)`` segment, never a guessed split."""
    if phases.started_at is None or phases.recovered_at is None:
        return []
    segments = []
    cursor, pending = phases.started_at, []
    for name, end in (("detection", phases.detected_at), ("failover", phases.repaired_at),
                      ("client recovery", phases.recovered_at)):
        if end is None:
            pending.append(name)
            continue
        end = min(end, phases.recovered_at)  # the platform may finish after the clients recovered: clipped
        label = name if not pending else f"unknown ({' + '.join([*pending, name])})"
        segments.append((label, cursor, end))
        cursor, pending = end, []
    if phases.warm_at is not None:
        segments.append(("warm-up", phases.recovered_at, phases.warm_at))
    return segments


def _phases(figures: Mapping[str, Any]) -> RtoPhases | None:
    raw = figures.get("rto_phases")
    return RtoPhases.from_dict(raw) if isinstance(raw, Mapping) else None


def phases_chart(data: ReportData, x0: float, x1: float, origin: float) -> str:
    """The stacked bar (SVG), or '' when the run's summary has no phases to draw."""
    phases = _phases(data.figures)
    segments = phase_segments(phases) if phases is not None else []
    if not segments:
        return ""
    frame = _BarFrame(x0, x1, 0.0, 1.0, height=84, top=26, bottom=30, title="RTO phases",
                      y_label=", ".join(phases.sources) if phases and phases.sources else "")
    parts = [frame.axes(time_origin=origin)]
    for label, start, end in segments:
        left, right = frame.sx(max(start, x0)), frame.sx(min(end, x1))
        color = PHASE_COLORS.get(label, PHASE_COLORS["unknown"])
        width = max(1.0, right - left)
        parts.append(f'<rect x="{left:.1f}" y="{frame.top + 4}" width="{width:.1f}" height="{frame.plot_h - 8:.0f}" '
                     f'fill="{color}" data-kind="phase"><title>{escape(label)}: {end - start:.3f} s</title></rect>')
        if width > 60:
            parts.append(f'<text x="{left + 3:.1f}" y="{frame.top + frame.plot_h / 2 + 4:.0f}" font-size="10" '
                         f'fill="#ffffff">{escape(label)} {end - start:.2f} s</text>')
    return frame.svg("phases", parts, description="RTO phases: detection, failover, client recovery, warm-up")


__all__ = ["PHASE_COLORS", "phase_segments", "phases_chart"]
