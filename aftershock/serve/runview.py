"""The live run view as server-rendered HTML fragments ("panels"), one per part of the page.

:func:`run_panels` turns a :class:`~aftershock.serve.live.LiveState` into ``{panel id: html}``; the page renders
them once, the event stream sends the panels that changed. The throughput chart is inline SVG drawn with
:mod:`aftershock.reports.svg`: ok / slow / failed requests per second over the whole run, fault and rollback
markers, and the outages shaded as the core computes them (:mod:`aftershock.serve.outages`: from the first bad
request, at the timeline's 100 ms resolution). The phase is the terminal dashboard's
(:func:`~aftershock.gameday.snapshot.derive_phase`); the RTO is written with the project's one formatter
(:func:`~aftershock.core.figures.with_error`) and its phases with the reports' glossary
(:data:`~aftershock.reports.glossary.PHASES`), so console, CLI and reports say the same thing.
"""

from __future__ import annotations

import time
from html import escape

from aftershock.core.figures import with_error
from aftershock.core.kinds import MarkerKind
from aftershock.gameday.snapshot import marker_text
from aftershock.reports.glossary import PHASES, RTO_DEFINITION
from aftershock.reports.svg import FAIL, OK, P95, Frame, empty_chart
from aftershock.serve.live import LiveState
from aftershock.serve.outages import Span

PANELS = ("status", "traffic", "rto", "chart", "names", "platform", "ledger", "markers")
PHASE_CLASS = {"steady state": "good", "fault": "bad", "recovering": "warn", "rolling back": "warn",
               "rolled back": "good", "finished": "good", "aborted": "bad"}


def _f(value: float | None, fmt: str = "{:.1f}", none: str = "-") -> str:
    return none if value is None else fmt.format(value)


def _status(state: LiveState) -> str:
    phase = escape(state.phase.upper())
    extra = ""
    if state.aborted and state.phase != "aborted":
        extra = "<span class='pill bad' id='aborted'>ABORTED</span>"
    verdict = ""
    if state.summary is not None:
        word = "PASSED" if state.summary.get("passed") else "FAILED"
        verdict = (f"<span class='pill {'good' if word == 'PASSED' else 'bad'}' id='verdict'>{word}</span> "
                   f"status <b>{escape(str(state.summary.get('status')))}</b>")
    scenario = escape(str(state.meta.get("scenario") or state.name))
    target = escape(str(state.meta.get("target") or "?"))
    return (f"<span class='pill {PHASE_CLASS.get(state.phase, '')}' id='phase'>{phase}</span>{extra} "
            f"<b>{scenario}</b> on <b>{target}</b> · T+{state.now - state.started_at:.1f} s {verdict}")


def _traffic(state: LiveState) -> str:
    recent, span = state.traffic.recent, state.traffic.recent_s or 1.0
    return (f"<div class='figs'><div><small>ok</small><b id='ok-rps'>{recent.good / span:.1f}</b> req/s</div>"
            f"<div><small>slow</small><b id='slow-rps'>{recent.slow / span:.1f}</b> req/s</div>"
            f"<div class='{'bad' if recent.fail else ''}'><small>failed</small><b id='fail-rps'>"
            f"{recent.fail / span:.1f}</b> req/s</div>"
            f"<div><small>p95</small><b id='p95'>{_f(recent.p95_ms, '{:.0f}')}</b> ms</div></div>"
            f"<small>last {span:g} s</small>")


PHASE_TERMS = tuple((term.replace(" ", "_").replace("-", "") + "_s", term, meaning)
                    for term, meaning in PHASES if term != "unknown")
"""``(measurement key, glossary term, meaning)`` per RTO phase: ``detection_s``, ``failover_s``, ..."""
UNKNOWN = dict(PHASES).get("unknown", "")


def _phase_items(phases: dict[str, float | None]) -> str:
    items = []
    for key, term, meaning in PHASE_TERMS:
        if key not in phases:
            continue
        value = phases[key]
        shown = "unknown" if value is None else with_error(value, None)
        items.append(f"<li data-phase='{escape(term)}' title='{escape(meaning if value is not None else UNKNOWN)}'>"
                     f"{escape(term)}: {shown}</li>")
    return f"<ul class='phases'>{''.join(items)}</ul>" if items else ""


def _rto(state: LiveState) -> str:
    rto = state.rto
    if rto.kind == "none":
        return "<span id='rto-now' data-kind='none' class='dim'>no fault yet</span>"
    if rto.kind == "measured":
        if rto.seconds is None or not rto.recovered:
            body = "<b class='bad'>not recovered</b> (measured)"
        else:
            body = f"<b id='rto-value'>{escape(with_error(rto.seconds, rto.error_s))}</b> (measured)"
        value = "" if rto.seconds is None else f"{rto.seconds:.3f}"
        return (f"<span id='rto-now' data-kind='measured' data-rto='{value}' title='{escape(RTO_DEFINITION)}'>"
                f"{body}</span>" + _phase_items(rto.phases))
    if state.done:
        return (f"<span id='rto-now' data-kind='unmeasured' class='warn'>not measured (the run ended before recovery "
                f"was confirmed); last failure {_so_far(rto.seconds)} after the fault</span>")
    word = "still failing" if rto.failing else "no failures now"
    return (f"<span id='rto-now' data-kind='so-far' class='{'bad' if rto.failing else 'warn'}'>RTO so far "
            f"<b>{_so_far(rto.seconds)}</b>, {word}</span>")


def _so_far(seconds: float | None) -> str:
    return "-" if seconds is None else escape(with_error(seconds, None))


def _chart(state: LiveState) -> str:
    seconds = state.traffic.seconds
    if not seconds:
        return empty_chart("live-throughput", "Requests per second", "no traffic yet")
    x0 = min(float(seconds[0][0]), state.started_at)
    x1 = max(float(seconds[-1][0] + 1), x0 + 10)
    peak = max(t.total for _, t in seconds)
    frame = Frame(x0, x1, 0.0, max(1.0, peak * 1.15), height=240, title="Requests per second", y_label="req/s")
    parts = [frame.axes(time_origin=state.started_at)]
    data_end = x1 if state.traffic.end_ms is None else state.traffic.end_ms / 1000
    parts += [_shade(frame, span, data_end) for span in state.outages]
    for key, color in (("good", OK), ("slow", P95), ("fail", FAIL)):
        parts.append(frame.line([(s + 0.5, float(getattr(t, key))) for s, t in seconds], color=color, name=key))
    for marker in state.markers:
        kind = str(marker.get("kind"))
        if kind in (MarkerKind.FAULT_START, MarkerKind.FAULT_END, MarkerKind.ROLLBACKS_START,
                    MarkerKind.ROLLBACKS_END, MarkerKind.RUN_INTERRUPTED):
            parts.append(frame.vline(float(marker["ts"]), kind=kind, label=kind, tooltip=marker_text(marker)))
    parts.append(frame.legend([("ok", OK), ("slow", P95), ("failed", FAIL)]))
    return frame.svg("live-throughput", parts, description="requests per second, live")


def _shade(frame: Frame, span: Span, data_end: float) -> str:
    """One outage, from its first bad request to the first good one after its last (still going: to the data's
    end); ``data-start`` / ``data-end`` carry the exact epoch seconds."""
    end = data_end if span.end is None else span.end
    label = f"outage {end - span.start:.1f} s" + (" (going on)" if span.end is None else "")
    shown = "" if span.end is None else f"{span.end:.3f}"
    return (f"<g data-kind='outage-span' data-start='{span.start:.3f}' data-end='{shown}'>"
            f"{frame.span(span.start, end, label=label)}</g>")


def _names(state: LiveState) -> str:
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{t.good}</td><td>{t.slow}</td>"
                   f"<td class='{'bad' if t.fail else ''}'>{t.fail}</td><td>{_f(t.p95_ms, '{:.0f}')}</td>"
                   f"<td>{t.max_ms:.0f}</td></tr>" for name, t in state.traffic.names)
    return ("<table><tr><th>request</th><th>ok</th><th>slow</th><th>failed</th><th>p95 ms</th><th>max ms</th></tr>"
            f"{rows or '<tr><td colspan=6 class=dim>no requests yet</td></tr>'}</table>")


def _platform(state: LiveState) -> str:
    sample = state.sample
    if sample is None:
        return f"<span class='dim'>{escape(state.sample_error or 'no samples yet')}</span>"
    replicas = " ".join(f"<span class='{'good' if ready >= desired else 'warn'}'>{escape(region)} "
                        f"{ready}/{desired} ready</span>" for region, desired, ready in sample.replicas)
    lag = ", ".join(f"{escape(node)} {'unknown' if value is None else f'{value:.2f} s'}"
                    for node, value in sample.lag_s)
    down = f"<div class='bad'>AZ down: {escape(', '.join(sample.azs_down))}</div>" if sample.azs_down else ""
    stale = f"<div class='warn'>last sample failed: {escape(state.sample_error)}</div>" if state.sample_error else ""
    writer = escape(sample.writer or "NONE") + (f" ({escape(sample.writer_region)})" if sample.writer_region else "")
    return (f"<div>replicas {replicas or '-'}</div><div>writer <b id='writer'>{writer}</b></div>"
            f"<div>replication lag {lag or '-'}</div>{down}{stale}")


def _ledger(state: LiveState) -> str:
    if not state.ledgers:
        return "<span class='dim'>no write ledger in this run</span>"
    rows = "".join(f"<tr><td>{escape(store)}</td><td>{c.get('ok', 0)}</td>"
                   f"<td>{c.get('failed', 0) + c.get('rejected', 0)}</td><td>{c.get('in_doubt', 0)}</td></tr>"
                   for store, c in state.ledgers)
    return f"<table><tr><th>store</th><th>acknowledged</th><th>failed</th><th>in doubt</th></tr>{rows}</table>"


def _markers(state: LiveState) -> str:
    if not state.markers:
        return "<span class='dim'>none yet</span>"
    rows = []
    for marker in state.markers[-12:]:
        kind = str(marker.get("kind"))
        when = time.strftime("%H:%M:%S", time.gmtime(float(marker["ts"])))
        rows.append(f"<tr class='marker' data-kind='{escape(kind)}' data-ts='{float(marker['ts']):.3f}'>"
                    f"<td>T+{float(marker['ts']) - state.started_at:.1f} s</td><td>{when}</td>"
                    f"<td class='{'bad' if kind == MarkerKind.FAULT_START else ''}'>{escape(kind)}</td>"
                    f"<td>{escape(marker_text(marker))}</td></tr>")
    return f"<table>{''.join(rows)}</table>"


RENDER = {"status": _status, "traffic": _traffic, "rto": _rto, "chart": _chart, "names": _names,
          "platform": _platform, "ledger": _ledger, "markers": _markers}


def run_panels(state: LiveState) -> dict[str, str]:
    """Every panel of the run view."""
    return {panel: RENDER[panel](state) for panel in PANELS}


def run_layout(panels: dict[str, str], prefix: str = "") -> str:
    """The run view's boxes, holding ``panels`` (keys ``prefix + panel id``, as the stream sends them)."""
    def box(panel: str, title: str, wide: bool = False) -> str:
        return (f"<section class='box{' wide' if wide else ''}'><h3>{title}</h3>"
                f"<div class='panel' id='{prefix}{panel}'>{panels.get(prefix + panel, '')}</div></section>")
    return (f"<div class='status' id='{prefix}status'>{panels.get(prefix + 'status', '')}</div><div class='grid'>"
            + box("traffic", "Traffic") + box("rto", "RTO") + box("platform", "Replicas, writer, lag")
            + box("ledger", "Write ledger") + box("chart", "Throughput", True) + box("names", "Per request", True)
            + box("markers", "Fault and rollback markers", True) + "</div>")


__all__ = ["PANELS", "run_layout", "run_panels"]
