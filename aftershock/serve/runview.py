"""The live run view as server-rendered HTML fragments ("panels"), one per part of the page.

:func:`run_panels` turns a :class:`~aftershock.serve.live.LiveState` into ``{panel id: html}``; the page renders
them once, the event stream sends the panels that changed. The throughput chart is inline SVG drawn with
:mod:`aftershock.reports.svg`: ok / slow / failed requests per second over the whole run, fault and rollback
markers, and every second with failed or slow requests shaded as the outage grows.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from aftershock.core.kinds import MarkerKind
from aftershock.reports.svg import FAIL, OK, P95, Frame, empty_chart
from aftershock.serve.live import LiveState
from aftershock.serve.traffic import Tally

PANELS = ("status", "traffic", "rto", "chart", "names", "platform", "ledger", "markers")
PHASE_CLASS = {"fault": "bad", "recovering": "warn", "rolling back": "warn", "done": "good", "steady state": "good"}


def _f(value: float | None, fmt: str = "{:.1f}", none: str = "-") -> str:
    return none if value is None else fmt.format(value)


def _status(state: LiveState) -> str:
    phase = escape(state.phase.upper())
    extra = ""
    if state.aborted:
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


PHASE_NAMES = (("detection_s", "detection"), ("failover_s", "failover"), ("client_recovery_s", "client recovery"),
               ("warmup_s", "warm-up"))


def _rto(state: LiveState) -> str:
    rto = state.rto
    if rto.kind == "none":
        return "<span id='rto-now' data-kind='none' class='dim'>no fault yet</span>"
    if rto.kind == "measured":
        if rto.seconds is None or not rto.recovered:
            body = "<b class='bad'>not recovered</b> (measured)"
        else:
            error = f" ± {rto.error_s:.1f}" if rto.error_s else ""
            body = f"<b id='rto-value'>{rto.seconds:.1f}</b>{error} s (measured)"
        phases = "".join(f"<li>{label}: {_f(rto.phases.get(key), '{:.1f} s', 'unknown')}</li>"
                         for key, label in PHASE_NAMES if key in rto.phases)
        value = "" if rto.seconds is None else f"{rto.seconds:.3f}"
        return (f"<span id='rto-now' data-kind='measured' data-rto='{value}'>{body}</span>"
                + (f"<ul class='phases'>{phases}</ul>" if phases else ""))
    if state.done:
        return (f"<span id='rto-now' data-kind='unmeasured' class='warn'>not measured (the run ended before recovery "
                f"was confirmed); last failure {_f(rto.seconds)} s after the fault</span>")
    word = "still failing" if rto.failing else "no failures now"
    return (f"<span id='rto-now' data-kind='so-far' class='{'bad' if rto.failing else 'warn'}'>RTO so far "
            f"<b>{_f(rto.seconds)}</b> s, {word}</span>")


def _chart(state: LiveState) -> str:
    seconds = state.traffic.seconds
    if not seconds:
        return empty_chart("live-throughput", "Requests per second", "no traffic yet")
    x0 = min(float(seconds[0][0]), state.started_at)
    x1 = max(float(seconds[-1][0] + 1), x0 + 10)
    peak = max(t.total for _, t in seconds)
    frame = Frame(x0, x1, 0.0, max(1.0, peak * 1.15), height=240, title="Requests per second", y_label="req/s")
    parts = [frame.axes(time_origin=state.started_at)]
    parts += [frame.span(a, b, label=f"outage {b - a:.0f} s") for a, b in _bad_spans(seconds)]
    for key, color in (("good", OK), ("slow", P95), ("fail", FAIL)):
        parts.append(frame.line([(s + 0.5, float(getattr(t, key))) for s, t in seconds], color=color, name=key))
    for marker in state.markers:
        kind = str(marker.get("kind"))
        if kind in (MarkerKind.FAULT_START, MarkerKind.FAULT_END, MarkerKind.ROLLBACKS_START,
                    MarkerKind.ROLLBACKS_END, MarkerKind.RUN_INTERRUPTED):
            parts.append(frame.vline(float(marker["ts"]), kind=kind, label=kind, tooltip=_marker_text(marker)))
    parts.append(frame.legend([("ok", OK), ("slow", P95), ("failed", FAIL)]))
    return frame.svg("live-throughput", parts, description="requests per second, live")


def _bad_spans(seconds: tuple[tuple[int, Tally], ...]) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    for second, tally in seconds:
        if tally.fail + tally.slow == 0:
            continue
        if spans and spans[-1][1] >= second:
            spans[-1] = (spans[-1][0], second + 1.0)
        else:
            spans.append((float(second), second + 1.0))
    return spans


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


def _marker_text(marker: dict[str, Any]) -> str:
    kind = marker.get("kind")
    if kind == MarkerKind.FAULT_START:
        args = ", ".join(f"{k}={v!r}" for k, v in (marker.get("args") or {}).items())
        return f"{marker.get('action')}({args})"
    if kind == MarkerKind.FAULT_END:
        return str(marker.get("description") or marker.get("action") or "")
    if kind in (MarkerKind.FAULT_REVERTED, MarkerKind.FAULT_ABORTED):
        return f"{marker.get('action')} by {marker.get('by') or 'error: ' + str(marker.get('error'))}"
    if kind == MarkerKind.RUN_INTERRUPTED:
        return str(marker.get("signal") or "")
    if kind == MarkerKind.TARGET_HEALTHY:
        return f"after {marker.get('waited_s')} s"
    return ""


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
                    f"<td>{escape(_marker_text(marker))}</td></tr>")
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
