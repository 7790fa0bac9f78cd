"""Small inline-SVG toolkit for the charts: a plot frame with scales and axes, lines, bands and markers.

Everything returns SVG markup as strings, with presentation attributes instead of CSS classes, so a chart
renders the same in a browser, a mail client and on paper. No JavaScript, no network.

Example::

    frame = Frame(x0=0, x1=60, y0=0, y1=120, title="req/s")
    parts = [frame.axes(time_origin=0), frame.line([(0, 10), (30, 50), (60, 40)], color=OK)]
    svg = frame.svg("throughput", parts)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from aftershock.core.kinds import MarkerKind

OK = "#2e7d32"
FAIL = "#c62828"
P50 = "#1565c0"
P95 = "#ef6c00"
P99 = "#6a1b9a"
GRID = "#e0e0e0"
AXIS = "#616161"
PALETTE = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#827717")
MARKER_STYLE: dict[str, tuple[str, str]] = {
    MarkerKind.FAULT_START: ("#c62828", "4 2"), MarkerKind.FAULT_END: ("#ef6c00", "2 2"),
    MarkerKind.ROLLBACKS_START: ("#1565c0", "4 2"), MarkerKind.ROLLBACKS_END: ("#1565c0", "1 3"),
    MarkerKind.FAULT_REVERTED: ("#757575", "2 2")}

Point = tuple[float, float | None]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[lo, hi]``."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def time_ticks(lo_s: float, hi_s: float, count: int = 8) -> list[float]:
    """Round offsets in seconds within ``[lo_s, hi_s]`` (steps of 1, 2, 5, 10, 15, 30 s, 1, 2, 5 ... min, 1 h)."""
    span = hi_s - lo_s
    if span <= 0:
        return [lo_s]
    steps = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
    step = next((s for s in steps if span / s <= count), steps[-1])
    first = math.ceil(lo_s / step - 1e-9)
    return [(first + i) * step for i in range(int((hi_s - first * step) / step + 1e-9) + 1)]


def fmt_offset(seconds: float) -> str:
    """``+12s``, ``+1:30``, ``+1:02:00``."""
    whole = round(seconds, 1)
    sign = "-" if whole < 0 else "+"
    if abs(whole) < 60:
        return f"{sign}{abs(whole):g}s"
    total = round(abs(whole))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def fmt_value(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


@dataclass(frozen=True)
class Frame:
    """A plot area mapping data ``x`` (epoch s) and ``y`` to pixels; ``log_y`` for latencies."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: int = 880
    height: int = 220
    left: int = 56
    right: int = 16
    top: int = 26
    bottom: int = 34
    title: str = ""
    y_label: str = ""
    log_y: bool = False

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def sx(self, x: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return self.left + (x - self.x0) / span * self.plot_w

    def sy(self, y: float) -> float:
        if self.log_y:
            lo, hi = math.log10(self.y0), math.log10(self.y1)
            value = math.log10(max(y, self.y0))
        else:
            lo, hi, value = self.y0, self.y1, y
        span = hi - lo or 1.0
        clamped = min(max(value, lo), hi)
        return self.top + self.plot_h - (clamped - lo) / span * self.plot_h

    def y_ticks(self) -> list[float]:
        if self.log_y:
            lo, hi = math.floor(math.log10(self.y0)), math.ceil(math.log10(self.y1))
            return [10.0**e for e in range(lo, hi + 1) if self.y0 <= 10.0**e <= self.y1]
        return nice_ticks(self.y0, self.y1, 4)

    def axes(self, *, time_origin: float | None = None) -> str:
        """Grid, y ticks and time ticks: offsets from ``time_origin``, or UTC dates when it is None."""
        out = [f'<rect x="{self.left}" y="{self.top}" width="{self.plot_w:.0f}" height="{self.plot_h:.0f}" '
               f'fill="#ffffff" stroke="{GRID}"/>']
        for tick in self.y_ticks():
            y = self.sy(tick)
            out.append(f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.left + self.plot_w:.0f}" y2="{y:.1f}" '
                       f'stroke="{GRID}" stroke-width="1"/>')
            out.append(f'<text x="{self.left - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10" '
                       f'fill="{AXIS}">{fmt_value(tick)}</text>')
        span = self.x1 - self.x0
        if time_origin is None:
            ticks = [i * span / 5 for i in range(6)]
            labels = [time.strftime("%m-%d %H:%M", time.gmtime(self.x0 + t)) for t in ticks]
        else:
            offsets = time_ticks(self.x0 - time_origin, self.x1 - time_origin)
            ticks = [o - (self.x0 - time_origin) for o in offsets]
            labels = [fmt_offset(o) for o in offsets]
        for tick, tick_label in zip(ticks, labels, strict=True):
            x = self.sx(self.x0 + tick)
            out.append(f'<line x1="{x:.1f}" y1="{self.top + self.plot_h:.0f}" x2="{x:.1f}" '
                       f'y2="{self.top + self.plot_h + 4:.0f}" stroke="{AXIS}"/>')
            out.append(f'<text x="{x:.1f}" y="{self.top + self.plot_h + 15:.0f}" text-anchor="middle" '
                       f'font-size="10" fill="{AXIS}">{tick_label}</text>')
        if self.title:
            out.append(f'<text x="{self.left}" y="16" font-size="12" font-weight="bold" fill="#212121">'
                       f"{escape(self.title)}</text>")
        if self.y_label:
            out.append(f'<text x="{self.left + self.plot_w:.0f}" y="16" font-size="10" text-anchor="end" '
                       f'fill="{AXIS}">{escape(self.y_label)}</text>')
        return "".join(out)

    def _segments(self, points: Iterable[Point]) -> list[list[tuple[float, float]]]:
        segments: list[list[tuple[float, float]]] = [[]]
        for x, y in points:
            if y is None:
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append((self.sx(x), self.sy(y)))
        return [s for s in segments if s]

    def line(self, points: Iterable[Point], *, color: str, width: float = 1.5, dash: str = "",
             step: bool = False, name: str = "") -> str:
        """A polyline (one per run of non-None values); ``step`` draws a staircase."""
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out = []
        for segment in self._segments(points):
            coords = segment if not step else _staircase(segment)
            if len(coords) == 1:
                x, y = coords[0]
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5" fill="{color}"/>')
                continue
            text = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            out.append(f'<polyline points="{text}" fill="none" stroke="{color}" stroke-width="{width}"'
                       f'{dash_attr} stroke-linejoin="round" data-series="{escape(name)}"/>')
        return "".join(out)

    def band(self, lower: Sequence[Point], upper: Sequence[Point], *, color: str, opacity: float = 0.2) -> str:
        """A filled envelope between two series (the same x values), e.g. min/max of a downsampled rate."""
        pairs = [(x, lo, hi) for (x, lo), (_, hi) in zip(lower, upper, strict=True)
                 if lo is not None and hi is not None]
        if len(pairs) < 2:
            return ""
        top = " ".join(f"{self.sx(x):.1f},{self.sy(hi):.1f}" for x, _, hi in pairs)
        bottom = " ".join(f"{self.sx(x):.1f},{self.sy(lo):.1f}" for x, lo, _ in reversed(pairs))
        return f'<polygon points="{top} {bottom}" fill="{color}" fill-opacity="{opacity}" stroke="none"/>'

    def span(self, start: float, end: float, *, color: str = FAIL, opacity: float = 0.12, label: str = "") -> str:
        """A shaded vertical span (an outage)."""
        x0, x1 = self.sx(max(start, self.x0)), self.sx(min(end, self.x1))
        width = max(1.5, x1 - x0)
        title = f"<title>{escape(label)}</title>" if label else ""
        return (f'<rect x="{x0:.1f}" y="{self.top}" width="{width:.1f}" height="{self.plot_h:.0f}" fill="{color}" '
                f'fill-opacity="{opacity}" data-kind="outage">{title}</rect>')

    def vline(self, x: float, *, kind: str, label: str, tooltip: str = "", show_label: bool = True) -> str:
        """A vertical marker line with its label written along it (``tooltip``: the full text)."""
        if not self.x0 <= x <= self.x1:
            return ""
        color, dash = MARKER_STYLE.get(kind, (AXIS, "3 3"))
        px = self.sx(x)
        return (f'<g data-kind="{escape(kind)}"><title>{escape(tooltip or label)}</title>'
                f'<line x1="{px:.1f}" y1="{self.top}" x2="{px:.1f}" y2="{self.top + self.plot_h:.0f}" '
                f'stroke="{color}" stroke-width="1.2" stroke-dasharray="{dash}"/>'
                + (f'<text transform="translate({px + 3:.1f},{self.top + 4}) rotate(90)" font-size="9" '
                   f'fill="{color}">{escape(label[:40])}</text>' if show_label else "")
                + "</g>")

    def legend(self, entries: Sequence[tuple[str, str]]) -> str:
        """Colour swatches and names along the top right, right-aligned after the title."""
        out = []
        x = self.left + 7.5 * len(self.title) + 24.0
        for name, color in entries:
            out.append(f'<rect x="{x:.0f}" y="8" width="10" height="10" fill="{color}"/>'
                       f'<text x="{x + 13:.0f}" y="17" font-size="10" fill="#212121">{escape(name)}</text>')
            x += 20 + 6.2 * len(name)
        return "".join(out)

    def svg(self, chart_id: str, parts: Iterable[str], *, description: str = "") -> str:
        label = escape(description or self.title)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" '
                f'role="img" aria-label="{label}" width="{self.width}" height="{self.height}" '
                f'viewBox="0 0 {self.width} {self.height}" font-family="Helvetica, Arial, sans-serif">'
                f"<title>{label}</title>{''.join(parts)}</svg>")


def _staircase(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        if i:
            out.append((x, out[-1][1]))
        out.append((x, y))
    return out


def empty_chart(chart_id: str, title: str, message: str, *, width: int = 880, height: int = 70) -> str:
    """A placeholder saying why a chart has nothing to show (a partial run, no samples ...)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(chart_id)}" role="img" '
            f'aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'font-family="Helvetica, Arial, sans-serif"><title>{escape(title)}</title>'
            f'<text x="56" y="16" font-size="12" font-weight="bold" fill="#212121">{escape(title)}</text>'
            f'<text x="56" y="44" font-size="11" fill="{AXIS}">{escape(message)}</text></svg>')


__all__ = ["Frame", "empty_chart", "fmt_offset", "fmt_value", "nice_ticks", "time_ticks"]
