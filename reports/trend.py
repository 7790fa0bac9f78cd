"""``trend.html``: RTO and RPO per scenario and target over time, with regressions flagged.

One section per (scenario, target): a chart per figure that was ever measured (RTO, RPO, and the scaling
times for scaling scenarios). Each run is a dot (hollow: the run failed or was partial); a regression is a
large red dot; the dashed line is the median of the runs so far.

Example::

    with HistoryStore.default() as store:
        Path("trend.html").write_text(render_trend(store.entries()))
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from html import escape

from aftershock.reports.history import HistoryEntry
from aftershock.reports.svg import AXIS, FAIL, P50, Frame

TREND_FIGURES = (("rto_s", "RTO", "s"), ("rpo_s", "RPO", "s"), ("lost_writes", "Lost writes", "writes"),
                 ("first_scale_s", "Time to first scale-out", "s"), ("ready_capacity_s", "Time to ready capacity", "s"),
                 ("identity_rpo_s", "Identity RPO", "s"), ("identity_lost", "Users lost at the standby pool", "users"))


def _chart(entries: Sequence[HistoryEntry], figure: str, title: str, unit: str) -> str:
    points = [(e, v) for e in entries if (v := e.run.figure(figure)) is not None]
    if not points:
        return ""
    times = [e.run.started_at for e, _ in points]
    values = [v for _, v in points]
    x0, x1 = min(times), max(times)
    pad = max(60.0, (x1 - x0) * 0.04)
    frame = Frame(x0 - pad, x1 + pad, 0.0, max(1.0, max(values)) * 1.2, height=180, title=title, y_label=unit)
    medians = [(t, statistics.median(values[: i + 1])) for i, t in enumerate(times)]
    parts = [frame.axes(), frame.line([(t, m) for t, m in medians], color=AXIS, dash="4 3", name="median"),
             frame.line(list(zip(times, values, strict=True)), color=P50, width=1.0, name=figure)]
    for entry, value in points:
        regressed = [r for r in entry.regressions if r.figure == figure]
        x, y = frame.sx(entry.run.started_at), frame.sy(value)
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(entry.run.started_at))
        tip = f"{entry.run.run_id} ({when}): {value:g} {unit}"
        if regressed:
            tip += f" - REGRESSION: {regressed[0]}"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{FAIL}" data-kind="regression">'
                         f"<title>{escape(tip)}</title></circle>")
            continue
        fill = P50 if entry.run.passed and not entry.run.partial else "#ffffff"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{P50}" stroke-width="1.5">'
                     f"<title>{escape(tip)}</title></circle>")
    return frame.svg(f"trend-{figure}", parts, description=f"{title} per run over time")


def render_trend(entries: Sequence[HistoryEntry]) -> str:
    """The trend page for the given history entries (any mix of scenarios and targets)."""
    groups: dict[tuple[str, str], list[HistoryEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.run.scenario, entry.run.target), []).append(entry)
    sections = []
    for (scenario, target), group in sorted(groups.items()):
        flagged = [r for e in group for r in e.regressions]
        status = (f"<p style='color:{FAIL};font-weight:bold'>{len(flagged)} regression(s): "
                  + escape("; ".join(f"{r.run_id}: {r}" for r in flagged[-5:])) + "</p>") if flagged else \
            "<p style='color:#1b5e20'>No regression.</p>"
        charts = "".join(f"<div class='chart-box'>{svg}</div>" for f, title, unit in TREND_FIGURES
                         if (svg := _chart(group, f, title, unit)))
        sections.append(f"<h2>{escape(scenario)} on {escape(target)} <span style='color:#616161;font-weight:normal'>"
                        f"({len(group)} runs)</span></h2>{status}{charts}")
    body = "".join(sections) or "<p>No run recorded yet: run `aftershock report RUN_FOLDER` first.</p>"
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>aftershock trend</title><style>"
            "body{font-family:Helvetica,Arial,sans-serif;max-width:920px;margin:0 auto;padding:16px;color:#212121}"
            "h2{font-size:17px;border-bottom:1px solid #ddd}.chart-box{break-inside:avoid;page-break-inside:avoid}"
            "svg.chart{max-width:100%;height:auto}</style></head><body><h1>Resilience trend</h1>"
            "<p style='color:#616161'>Dots: runs (hollow: failed or partial). Large red dots: regressions "
            "(worse than the recent runs' median plus their noise). Dashed: running median.</p>"
            f"{body}</body></html>\n")


__all__ = ["render_trend"]
