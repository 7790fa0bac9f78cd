"""``report.md``: the run in a few lines of GitHub-flavoured Markdown, for CI job summaries.

Example::

    Path(os.environ["GITHUB_STEP_SUMMARY"]).open("a").write(render_markdown(data))
"""

from __future__ import annotations

from aftershock.reports import text
from aftershock.reports.dns import dns_sections
from aftershock.reports.glossary import PHASES
from aftershock.reports.identity import identity_sections
from aftershock.reports.model import ReportData

_ICONS = {"PASSED": ":white_check_mark:", "FAILED": ":x:", "PARTIAL": ":warning:"}


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(data: ReportData) -> str:
    """Verdict heading, objectives table, outages, ledger and problems."""
    run = data.run
    lines = [
        f"## {_ICONS[data.verdict]} {data.verdict}: {_cell(run.scenario)} on {_cell(run.target)}",
        "",
        f"**{_cell(text.verdict_sentence(data))}**",
        "",
        f"{_cell(run.title)} - started {text.when(run.started_at)}, took {text.seconds(text.duration(data))}, "
        f"experiment status `{data.status}`, run folder `{data.run_id}`.",
        "",
        "| Objective | Target | Measured | Result |",
        "| --- | ---: | ---: | --- |",
    ]
    for o in data.objectives:
        result = "met" if o.met else "**MISSED**"
        lines.append(f"| {_cell(text.label(o.name))} (`{o.name}`) | {_cell(text.target(o))} | "
                     f"{_cell(text.measured(o, data.figures))} | {result} |")
    if not data.objectives:
        lines.append("| (no objective judged) | | | |")
    lines.append("")
    warning = text.rto_warning(data)
    if warning:
        lines.append(f"- :warning: {_cell(warning)}")
    if "rto_s" in data.figures:
        lines.append(f"_{_cell(text.RTO_DEFINITION)}_")
        lines.append("")
        lines.extend(["Glossary of the RTO phases:", ""])
        lines.extend(f"- **{term}**: {_cell(meaning)}" for term, meaning in PHASES)
        lines.append("")
    if data.outages:
        spans = ", ".join("not over" if o.end is None else text.seconds(o.end - o.start) for o in data.outages)
        failed, slow = sum(o.failures for o in data.outages), sum(o.slow for o in data.outages)
        lines.append(f"Outages: {len(data.outages)} ({spans}); {failed} failed and {slow} slow requests.")
    for title, rows in (*text.store_sections(data.figures), *dns_sections(data.figures),
                        *identity_sections(data.figures)):
        lines.append(f"{title}: " + ", ".join(f"{name} {value}" for name, value in rows) + ".")
    ledger = text.ledger_rows(data.ledger)
    if ledger:
        lines.append("Ledger: " + ", ".join(f"{name} {value}" for name, value in ledger) + ".")
    steps_failed = [s for s in data.steps if s.status != "succeeded" or s.tolerance_met is False]
    lines.append(f"Steps: {len(data.steps)} ({len(steps_failed)} not succeeded).")
    for problem in (*data.errors, *data.problems):
        lines.append(f"- :warning: {_cell(problem)}")
    lines.append("")
    lines.append("Full report with charts: `report.html` in the run folder.")
    return "\n".join(lines) + "\n"


__all__ = ["render_markdown"]
