"""The stakeholder scorecard of one target: per scenario, the latest RTO and RPO against their objectives, the
pass rate and worst value over the last :data:`WINDOW` runs, regressions flagged, the tier, and trend charts with
the objective drawn as a line.

Figures come from the run history (:class:`~aftershock.reports.history.HistoryStore`); the objectives and tier
from the latest run folder's ``run.json`` (the objectives it was judged against, the target's tier), else its
``summary.json``. What is not recorded is shown as unknown, never guessed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from aftershock.reports.history import HistoryEntry
from aftershock.reports.svg import FAIL, OK, P50, Frame

WINDOW = 30
FIGURES = (("rto_s", "RTO", "s"), ("rpo_s", "RPO", "s"))


@dataclass(frozen=True)
class ScenarioCard:
    scenario: str
    entries: tuple[HistoryEntry, ...]
    """The last :data:`WINDOW` runs, oldest first."""
    objectives: dict[str, float]
    tier: str | None

    @property
    def latest(self) -> HistoryEntry:
        return self.entries[-1]

    @property
    def pass_rate(self) -> float:
        return sum(e.run.passed for e in self.entries) / len(self.entries)

    def worst(self, figure: str) -> float | None:
        values = [v for e in self.entries if (v := e.run.figure(figure)) is not None]
        return max(values) if values else None

    @property
    def regressions(self) -> list[str]:
        return [f"{e.run.run_id}: {r}" for e in self.entries for r in e.regressions]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _judged(entries: list[HistoryEntry]) -> tuple[dict[str, float], str | None]:
    """Objectives and tier of the newest run whose folder still says them."""
    for entry in reversed(entries):
        folder = Path(entry.run.run_dir)
        plan, summary = _read(folder / "run.json"), _read(folder / "summary.json")
        objectives = {str(k): float(v) for k, v in (plan.get("objectives") or {}).items()
                      if isinstance(v, int | float)}
        if not objectives:
            objectives = {str(o["name"]): float(o["target"]) for o in summary.get("objectives") or ()
                          if isinstance(o, dict) and isinstance(o.get("target"), int | float)}
        tier = (plan.get("snapshot") or {}).get("objectives_tier")
        if objectives or tier:
            return objectives, str(tier) if tier else None
    return {}, None


def scenario_cards(entries: list[HistoryEntry], target: str) -> list[ScenarioCard]:
    groups: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        if entry.run.target == target:
            groups.setdefault(entry.run.scenario, []).append(entry)
    cards = []
    for scenario, group in sorted(groups.items()):
        recent = group[-WINDOW:]
        objectives, tier = _judged(recent)
        cards.append(ScenarioCard(scenario, tuple(recent), objectives, tier))
    return cards


def trend_chart(card: ScenarioCard, figure: str, title: str, unit: str) -> str:
    points = [(e, v) for e in card.entries if (v := e.run.figure(figure)) is not None]
    if not points:
        return ""
    objective = card.objectives.get(figure)
    times = [e.run.started_at for e, _ in points]
    top = max([v for _, v in points] + ([objective] if objective is not None else []))
    pad = max(60.0, (max(times) - min(times)) * 0.04)
    frame = Frame(min(times) - pad, max(times) + pad, 0.0, max(1.0, top) * 1.2, height=170, title=title,
                  y_label=unit)
    parts = [frame.axes(), frame.line(list(zip(times, [v for _, v in points], strict=True)), color=P50,
                                      width=1.0, name=figure)]
    if objective is not None:
        y = frame.sy(objective)
        parts.append(f'<g data-kind="objective" data-value="{objective:g}"><line x1="{frame.left}" y1="{y:.1f}" '
                     f'x2="{frame.left + frame.plot_w:.0f}" y2="{y:.1f}" stroke="{OK}" stroke-width="1.5" '
                     f'stroke-dasharray="6 3"/><text x="{frame.left + frame.plot_w - 4:.0f}" y="{y - 4:.1f}" '
                     f'text-anchor="end" font-size="10" fill="{OK}">objective {objective:g} {escape(unit)}</text></g>')
    for entry, value in points:
        x, y = frame.sx(entry.run.started_at), frame.sy(value)
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(entry.run.started_at))
        flagged = [r for r in entry.regressions if r.figure == figure]
        tip = f"{entry.run.run_id} ({when}): {value:g} {unit}" + (f" - REGRESSION: {flagged[0]}" if flagged else "")
        if flagged:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{FAIL}" data-kind="regression">'
                         f"<title>{escape(tip)}</title></circle>")
        else:
            fill = P50 if entry.run.passed and not entry.run.partial else "#ffffff"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{P50}">'
                         f"<title>{escape(tip)}</title></circle>")
    return frame.svg(f"score-{figure}", parts, description=f"{title} of {card.scenario} per run, objective dashed")


def _cell(value: float | None, objective: float | None, unit: str) -> str:
    if value is None:
        return "<td class='dim'>unknown</td>"
    if objective is None:
        return f"<td>{value:g} {unit} <small class='dim'>(no objective)</small></td>"
    met = value <= objective
    return (f"<td class='{'good' if met else 'bad'}'>{value:g} {unit} <small>{'≤' if met else '>'} "
            f"{objective:g}</small></td>")


def render_scorecard(target: str, cards: list[ScenarioCard]) -> str:
    """The scorecard body (inside the console's page layout; it prints cleanly)."""
    if not cards:
        return (f"<h1>Scorecard: {escape(target)}</h1><p>No run of this target is recorded yet: "
                "`aftershock report RUN_FOLDER` records one.</p>")
    tiers = sorted({c.tier for c in cards if c.tier}) or ["unknown"]
    rows, sections = [], []
    for card in cards:
        latest = card.latest.run
        flags = card.regressions
        rows.append(
            f"<tr data-scenario='{escape(card.scenario)}'><td><b>{escape(card.scenario)}</b></td>"
            + _cell(latest.figure("rto_s"), card.objectives.get("rto_s"), "s")
            + _cell(latest.figure("rpo_s"), card.objectives.get("rpo_s"), "s")
            + f"<td>{card.pass_rate:.0%} <small>of {len(card.entries)}</small></td>"
            + f"<td>{_opt(card.worst('rto_s'))} / {_opt(card.worst('rpo_s'))}</td>"
            + f"<td>{escape(card.tier or 'unknown')}</td>"
            + (f"<td class='bad regression-flag'>{len(flags)} regression(s)</td>" if flags else
               "<td class='good'>none</td>") + "</tr>")
        charts = "".join(f"<div class='chart-box'>{svg}</div>" for figure, title, unit in FIGURES
                         if (svg := trend_chart(card, figure, title, unit)))
        flagged = "".join(f"<li>{escape(text)}</li>" for text in flags[-5:])
        sections.append(f"<section class='card'><h2>{escape(card.scenario)}</h2>"
                        + (f"<ul class='bad'>{flagged}</ul>" if flagged else "") + charts + "</section>")
    return (f"<h1>Scorecard: {escape(target)}</h1><p>Tier <b id='tier'>{escape(', '.join(tiers))}</b> · "
            f"last {WINDOW} runs per scenario · generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}</p>"
            "<table class='score'><tr><th>scenario</th><th>latest RTO</th><th>latest RPO</th><th>pass rate</th>"
            "<th>worst RTO / RPO</th><th>tier</th><th>regressions</th></tr>" + "".join(rows) + "</table>"
            "<p class='dim'>Dots: runs (hollow: failed or partial); large red dots: regressions; dashed green: "
            "the objective.</p>" + "".join(sections))


def _opt(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g} s"


__all__ = ["WINDOW", "ScenarioCard", "render_scorecard", "scenario_cards", "trend_chart"]
