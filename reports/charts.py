"""The run report's charts, as inline SVG strings (see :mod:`aftershock.reports.svg` for the drawing primitives).

* ``throughput`` - ok and failed req/s, with the min/max envelope of per-second rates.
* ``latency`` - p50/p95/p99 (ms, log scale).
* ``errors`` - failed req/s per error kind.
* ``replicas`` - desired (dashed) and ready (solid) replicas per region.
* ``writer`` - the database writer's region as a band, and replication lag (s) per instance.
* ``phases`` - the RTO's phases as one stacked bar (:mod:`~aftershock.reports.phases_chart`), only when measured.

Every time chart shares the run's time axis (offsets from the start of the run), shades the outage
windows and draws the fault, rollback and revert markers as vertical lines.

Example::

    charts = render_charts(load_report_data(run_dir))
    charts["throughput"]  # '<svg ... data-chart="throughput" ...>'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aftershock.core.kinds import MarkerKind
from aftershock.reports.model import Marker, ReportData
from aftershock.reports.phases_chart import phases_chart
from aftershock.reports.series import SampleSeries, TrafficSeries, sample_series, traffic_series
from aftershock.reports.svg import FAIL, OK, P50, P95, P99, PALETTE, Frame, Point, empty_chart

CHART_IDS = ("throughput", "latency", "errors", "replicas", "writer")


@dataclass(frozen=True)
class _Axis:
    x0: float
    x1: float
    origin: float


def _axis(data: ReportData, traffic: TrafficSeries, samples: SampleSeries) -> _Axis | None:
    starts = [t for t in (traffic.t0 if not traffic.empty else None, samples.times[0] if samples.times else None)
              if t is not None]
    ends = [t for t in (traffic.t1 if not traffic.empty else None, samples.times[-1] if samples.times else None)
            if t is not None]
    if not starts:
        return None
    x0, x1 = min(starts), max(ends)
    origin = data.run.started_at if data.run.started_at is not None and data.run.started_at <= x0 + 60 else x0
    return _Axis(x0, max(x1, x0 + 1.0), origin)


_DRAWN_MARKERS = (MarkerKind.FAULT_START, MarkerKind.ROLLBACKS_START, MarkerKind.FAULT_REVERTED)
_CLUSTER_PX = 8.0


def _overlays(frame: Frame, data: ReportData, *, labels: bool = False) -> list[str]:
    """Outage spans, and marker lines; markers closer than a few pixels share one line and one label."""
    parts = []
    for outage in data.outages:
        end = outage.end if outage.end is not None else frame.x1
        label = f"outage: {outage.failures} failed requests" + (" (not over)" if outage.end is None else "")
        parts.append(frame.span(outage.start, end, label=label))
    clusters: list[list[Marker]] = []
    for marker in sorted((m for m in data.markers if m.kind in _DRAWN_MARKERS), key=lambda m: m.ts):
        if clusters and frame.sx(marker.ts) - frame.sx(clusters[-1][0].ts) < _CLUSTER_PX:
            clusters[-1].append(marker)
        else:
            clusters.append([marker])
    for cluster in clusters:
        names = list(dict.fromkeys(m.label for m in cluster))
        label = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1})"
        parts.append(frame.vline(cluster[0].ts, kind=cluster[0].kind, label=label, tooltip="; ".join(names),
                                 show_label=labels))
    return parts


def _points(times: Sequence[float], values: Sequence[float | None]) -> list[Point]:
    return list(zip(times, values, strict=True))


def _ceiling(values: Sequence[float | None], floor: float = 1.0) -> float:
    present = [v for v in values if v is not None]
    return max([floor, *present]) * 1.1


def throughput_chart(data: ReportData, traffic: TrafficSeries, axis: _Axis) -> str:
    if traffic.empty:
        return empty_chart("throughput", "Throughput", "no traffic recorded (timeline.jsonl missing or empty)")
    top = _ceiling([*traffic.ok_max, *traffic.fail_max])
    frame = Frame(axis.x0, axis.x1, 0.0, top, title="Throughput", y_label=f"req/s (bins of {traffic.bin_s:g} s)")
    t = traffic.times
    parts = [frame.axes(time_origin=axis.origin), *_overlays(frame, data, labels=True)]
    if traffic.bin_s > 1.0:
        parts.append(frame.band(_points(t, traffic.ok_min), _points(t, traffic.ok_max), color=OK))
        parts.append(frame.band(_points(t, [0.0] * len(t)), _points(t, traffic.fail_max), color=FAIL))
    parts.append(frame.line(_points(t, traffic.ok_rate), color=OK, name="ok"))
    parts.append(frame.line(_points(t, traffic.fail_rate), color=FAIL, name="failed"))
    parts.append(frame.legend([("ok", OK), ("failed", FAIL)]))
    return frame.svg("throughput", parts, description="Throughput: ok and failed requests per second")


def latency_chart(data: ReportData, traffic: TrafficSeries, axis: _Axis) -> str:
    present = [v for v in (*traffic.p50, *traffic.p95, *traffic.p99) if v is not None]
    if not present:
        return empty_chart("latency", "Latency", "no requests, no latency to show")
    low = max(0.1, min(present) / 2)
    frame = Frame(axis.x0, axis.x1, low, max(present) * 1.5, title="Latency", y_label="ms (log scale)", log_y=True)
    t = traffic.times
    parts = [frame.axes(time_origin=axis.origin), *_overlays(frame, data)]
    for name, values, color in (("p50", traffic.p50, P50), ("p95", traffic.p95, P95), ("p99", traffic.p99, P99)):
        parts.append(frame.line(_points(t, values), color=color, name=name))
    parts.append(frame.legend([("p50", P50), ("p95", P95), ("p99", P99)]))
    return frame.svg("latency", parts, description="Latency percentiles p50, p95, p99 in milliseconds")


def errors_chart(data: ReportData, traffic: TrafficSeries, axis: _Axis) -> str:
    if not traffic.error_kinds:
        return empty_chart("errors", "Errors by kind", "no failed requests")
    top = _ceiling([v for _, values in traffic.error_kinds for v in values])
    frame = Frame(axis.x0, axis.x1, 0.0, top, height=180, title="Errors by kind", y_label="failed req/s")
    parts = [frame.axes(time_origin=axis.origin), *_overlays(frame, data)]
    entries = []
    for i, (kind, values) in enumerate(traffic.error_kinds):
        color = PALETTE[i % len(PALETTE)]
        parts.append(frame.line(_points(traffic.times, values), color=color, name=kind))
        entries.append((kind, color))
    parts.append(frame.legend(entries))
    return frame.svg("errors", parts, description="Failed requests per second by error kind")


def replicas_chart(data: ReportData, samples: SampleSeries, axis: _Axis) -> str:
    if samples.empty or not samples.desired:
        return empty_chart("replicas", "Replicas", "no samples of the target (samples.jsonl missing or empty)")
    top = _ceiling([v for _, values in samples.desired for v in values], floor=2.0)
    frame = Frame(axis.x0, axis.x1, 0.0, top, height=180, title="Replicas per region",
                  y_label="desired (dashed) / ready (solid)")
    parts = [frame.axes(time_origin=axis.origin), *_overlays(frame, data)]
    entries = []
    for i, ((region, desired), (_, ready)) in enumerate(zip(samples.desired, samples.ready, strict=True)):
        color = PALETTE[i % len(PALETTE)]
        parts.append(frame.line(_points(samples.times, desired), color=color, dash="5 3", step=True,
                                name=f"{region} desired"))
        parts.append(frame.line(_points(samples.times, ready), color=color, width=2.0, step=True,
                                name=f"{region} ready"))
        entries.append((region, color))
    parts.append(frame.legend(entries))
    return frame.svg("replicas", parts, description="Desired and ready replicas per region")


def writer_chart(data: ReportData, samples: SampleSeries, axis: _Axis) -> str:
    if samples.empty:
        return empty_chart("writer", "Database writer and replication lag", "no samples of the target")
    lags = [v for _, values in samples.lag_s for v in values if v is not None]
    frame = Frame(axis.x0, axis.x1, 0.0, _ceiling(lags, floor=0.1), height=200, top=46,
                  title="Database writer and replication lag", y_label="lag (s)")
    parts = [frame.axes(time_origin=axis.origin), *_overlays(frame, data)]
    regions = sorted({span[2] for span in samples.writer_spans})
    colors = {region: PALETTE[i % len(PALETTE)] for i, region in enumerate(regions)}
    for start, end, region, writer in samples.writer_spans:
        x0, x1 = frame.sx(max(start, frame.x0)), frame.sx(min(end, frame.x1))
        parts.append(f'<rect x="{x0:.1f}" y="24" width="{max(1.0, x1 - x0):.1f}" height="14" '
                     f'fill="{colors[region]}" fill-opacity="0.75" data-kind="writer">'
                     f"<title>writer {writer} in {region}</title></rect>")
        if x1 - x0 > 90:
            parts.append(f'<text x="{x0 + 3:.1f}" y="35" font-size="10" fill="#ffffff">{writer} ({region})</text>')
    entries = []
    for i, (instance, values) in enumerate(samples.lag_s):
        color = PALETTE[(i + len(regions)) % len(PALETTE)]
        parts.append(frame.line(_points(samples.times, values), color=color, name=instance))
        entries.append((instance, color))
    parts.append(frame.legend(entries))
    return frame.svg("writer", parts, description="Writer region over time and replication lag per instance")


def render_charts(data: ReportData) -> dict[str, str]:
    """Every chart of the report by id (:data:`CHART_IDS`), as SVG markup."""
    traffic = traffic_series(data.timeline)
    samples = sample_series(data.samples)
    axis = _axis(data, traffic, samples)
    if axis is None:
        message = "nothing was recorded: the run stopped before the load started"
        return {chart_id: empty_chart(chart_id, chart_id.capitalize(), message) for chart_id in CHART_IDS}
    phases = phases_chart(data, axis.x0, axis.x1, axis.origin)  # under the throughput chart, when measured
    return {
        "throughput": throughput_chart(data, traffic, axis),
        **({"phases": phases} if phases else {}),
        "latency": latency_chart(data, traffic, axis),
        "errors": errors_chart(data, traffic, axis),
        "replicas": replicas_chart(data, samples, axis),
        "writer": writer_chart(data, samples, axis),
    }


__all__ = ["CHART_IDS", "render_charts"]
