"""``report.html``: one self-contained page per run (inline CSS and SVG, no script, no network).

Layout, top to bottom: the verdict, what was run, the objectives (target vs measured), the charts, outages,
the RPO ledger, scaling, traffic per request, the experiment's steps, and any problem reading the folder.
It opens from disk, reads in a mail client and prints on A4 (charts never split across pages).

Example::

    Path("report.html").write_text(render_html(load_report_data(run_dir)))
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from aftershock.reports import text
from aftershock.reports.charts import render_charts
from aftershock.reports.dns import dns_sections
from aftershock.reports.glossary import PHASES
from aftershock.reports.identity import identity_sections
from aftershock.reports.model import ReportData

_VERDICT_COLORS = {"PASSED": ("#1b5e20", "#e8f5e9"), "FAILED": ("#b71c1c", "#ffebee"),
                   "PARTIAL": ("#e65100", "#fff3e0")}

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #212121; margin: 0 auto; max-width: 920px;
       padding: 16px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 17px; margin: 22px 0 8px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e0e0e0; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { border-radius: 6px; padding: 12px 16px; margin: 8px 0 12px; }
.verdict .word { font-size: 30px; font-weight: bold; letter-spacing: 1px; }
.met { color: #1b5e20; font-weight: bold; } .missed { color: #b71c1c; font-weight: bold; }
.muted { color: #616161; } .chart-box { margin: 10px 0; page-break-inside: avoid; break-inside: avoid; }
.problems { background: #fff8e1; border-left: 4px solid #ffa000; padding: 6px 12px; }
svg.chart { max-width: 100%; height: auto; display: block; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { page-break-after: avoid; break-after: avoid; }
  table, .verdict { page-break-inside: avoid; break-inside: avoid; }
  @page { size: A4; margin: 12mm; }
}
"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
                        for i, cell in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _verdict(data: ReportData) -> str:
    fg, bg = _VERDICT_COLORS[data.verdict]
    return (f'<div class="verdict" id="verdict" data-verdict="{data.verdict}" style="background:{bg};'
            f'border-left:8px solid {fg};color:{fg}"><span class="word">{data.verdict}</span>'
            f'<div style="color:#212121">{escape(text.verdict_sentence(data))}</div></div>')


def _overview(data: ReportData) -> str:
    run = data.run
    rows = [
        ("Scenario", escape(run.scenario) + (f" <span class='muted'>({escape(data.disruption)})</span>"
                                             if data.disruption != "unknown" else "")),
        ("Target", escape(run.target)),
        ("Started", escape(text.when(run.started_at))),
        ("Duration", escape(text.seconds(text.duration(data)))),
        ("Experiment status", escape(data.status) + (" - steady state deviated" + "".join(
            f"<br><span class='muted'>{escape(line)}</span>" for line in data.deviations) if data.deviated else "")),
        ("Run folder", f"<code>{escape(data.run_id)}</code>"),
    ]
    return "<table>" + "".join(f"<tr><th style='width:28%'>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _objectives(data: ReportData) -> str:
    if not data.objectives:
        return "<p class='muted'>No objectives were judged.</p>"
    rows = []
    for o in data.objectives:
        status = f"<span class='{'met' if o.met else 'missed'}'>{'met' if o.met else 'MISSED'}</span>"
        rows.append((escape(text.label(o.name)) + f" <span class='muted'>{escape(o.name)}</span>",
                     escape(text.target(o)), escape(text.measured(o, data.figures)), status))
    notes = []
    if "rto_s" in data.figures:
        notes.append(f"<p class='muted' id='rto-definition'>{escape(text.RTO_DEFINITION)}</p>")
        terms = "".join(f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>" for term, meaning in PHASES)
        notes.append(f"<dl class='muted' id='rto-glossary'>{terms}</dl>")
    warning = text.rto_warning(data)
    if warning:
        notes.append(f"<p class='missed' id='rto-warning'>Warning: {escape(warning)}</p>")
    return _table(("Objective", "Target", "Measured", "Result"), rows, numeric=frozenset({1, 2})) + "".join(notes)


def _outages(data: ReportData) -> str:
    if not data.outages:
        return "<p class='muted'>No outage of the monitored traffic.</p>"
    origin = data.run.started_at or data.outages[0].start
    rows = []
    for o in data.outages:
        length = "not over when the run ended" if o.end is None else text.seconds(o.end - o.start)
        edges = " / ".join("?" if e is None else f"{e * 1000:.0f} ms" for e in (o.start_error, o.end_error))
        rows.append((f"+{o.start - origin:.1f} s", escape(length), str(o.failures), str(o.slow), escape(edges)))
    note = text.slow_note(data)
    return _table(("Started (from run start)", "Lasted", "Failed requests", "Slow requests",
                   "± start / end"), rows, numeric=frozenset({2, 3})) + (
        f"<p class='muted'>{escape(note)}</p>" if note else "")


def _stores(data: ReportData) -> str:
    """One ledger section per data store (DynamoDB, S3) the run measured, the DNS failover's and the identity
    ledger's."""
    return "".join(f"<h2>{escape(title)}</h2>" + _table(("Ledger", "Value"), [(escape(k), escape(v)) for k, v in rows],
                                                       numeric=frozenset({1}))
                   for title, rows in (*text.store_sections(data.figures), *dns_sections(data.figures),
                                       *identity_sections(data.figures)))


def _ledger(ledger: Mapping[str, Any]) -> str:
    rows = text.ledger_rows(ledger)
    if not rows:
        return "<p class='muted'>The RPO write ledger did not run, or was not read back.</p>"
    return _table(("Ledger", "Value"), [(escape(k), escape(v)) for k, v in rows], numeric=frozenset({1}))


def _scaling(figures: Mapping[str, Any]) -> str:
    scaling = figures.get("scaling")
    if not isinstance(scaling, dict):
        return ""
    keys = ("region", "baseline_replicas", "peak_desired", "first_scale_s", "ready_capacity_s", "latency_slo_s")
    rows = [(escape(k), escape(str(scaling.get(k)))) for k in keys if k in scaling]
    return "<h2>Autoscaling</h2>" + _table(("Figure", "Value"), rows)


def _traffic(figures: Mapping[str, Any]) -> str:
    rows = []
    for entry in figures.get("traffic") or []:
        if not isinstance(entry, dict):
            continue

        def ms(key: str, row: Mapping[str, Any] = entry) -> str:
            value = row.get(key)
            return f"{value:.0f}" if isinstance(value, int | float) else "-"

        rows.append((escape(str(entry.get("name"))), str(entry.get("requests", 0)), str(entry.get("failures", 0)),
                     str(entry.get("slow", 0)), f"{float(entry.get('rps') or 0):.1f}", ms("p50_ms"), ms("p95_ms"),
                     ms("p99_ms")))
    if not rows:
        return ""
    return "<h2>Traffic</h2>" + _table(("Request", "Requests", "Failed", "Slow", "req/s", "p50 ms", "p95 ms",
                                        "p99 ms"), rows, numeric=frozenset({1, 2, 3, 4, 5, 6, 7}))


def _steps(data: ReportData) -> str:
    if not data.steps:
        return "<p class='muted'>No step was recorded.</p>"
    origin = data.run.started_at
    rows = []
    for step in data.steps:
        at = "-" if step.start is None or origin is None else f"+{step.start - origin:.1f} s"
        status = step.status
        if step.tolerance_met is not None:
            status += f", tolerance {'met' if step.tolerance_met else 'NOT met'}"
        bad = step.status not in ("succeeded",) or step.tolerance_met is False
        rows.append((escape(step.phase), escape(step.name), escape(step.kind),
                     f"<span class='{'missed' if bad else ''}'>{escape(status)}</span>", at,
                     escape(text.seconds(step.duration_s))))
    hypothesis = []
    for when, value in (("before", data.hypothesis_before), ("after", data.hypothesis_after)):
        word = "not checked" if value is None else ("met" if value else "NOT met")
        hypothesis.append(f"{when} the method: {word}")
    return (f"<p>Steady-state hypothesis {escape('; '.join(hypothesis))}.</p>"
            + _table(("Phase", "Activity", "Type", "Status", "Started", "Took"), rows, numeric=frozenset({4, 5})))


def _problems(data: ReportData) -> str:
    items = [*data.errors, *data.problems]
    if not items:
        return ""
    lis = "".join(f"<li>{escape(p)}</li>" for p in items)
    return f"<h2>Problems</h2><div class='problems'><ul>{lis}</ul></div>"


def render_html(data: ReportData, charts: Mapping[str, str] | None = None) -> str:
    """The whole report page."""
    charts = charts if charts is not None else render_charts(data)
    chart_html = "".join(f'<div class="chart-box">{svg}</div>' for svg in charts.values())
    title = f"{data.verdict} - {data.run.scenario} on {data.run.target}"
    generated = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<div class='muted'>aftershock resilience report</div><h1>{escape(data.run.title)}</h1>"
        f"{_verdict(data)}{_overview(data)}"
        f"<h2>Objectives</h2>{_objectives(data)}"
        f"<h2>Timeline</h2><p class='muted'>Time is measured from the start of the run. Shaded: outages; "
        "dashed lines: faults injected (red), rollbacks (blue), faults reverted (grey).</p>"
        f"{chart_html}"
        f"<h2>Outages</h2>{_outages(data)}"
        f"<h2>RPO write ledger</h2>{_ledger(data.ledger)}{_stores(data)}"
        f"{_scaling(data.figures)}{_traffic(data.figures)}"
        f"<h2>Experiment steps</h2>{_steps(data)}"
        f"{_problems(data)}"
        f"<p class='muted'>Generated {generated} from <code>{escape(str(data.run_dir))}</code>.</p>"
        "</body></html>\n"
    )


__all__ = ["render_html"]
