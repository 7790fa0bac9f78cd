"""``junit.xml``: one test case per objective (a failure when missed) and one for the steady-state hypothesis.

CI systems (GitHub, GitLab, Jenkins) show these as tests. A partial run fails its hypothesis case and every
objective that was not measured.

Example::

    Path("junit.xml").write_bytes(render_junit(data))
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aftershock.reports import text
from aftershock.reports.glossary import GLOSSARY
from aftershock.reports.model import ReportData


def _hypothesis_failure(data: ReportData) -> str | None:
    if data.partial and data.hypothesis_after is None:
        return "partial run: the steady-state hypothesis was not checked after the method"
    if data.hypothesis_before is False:
        return "the steady-state hypothesis was not met before the method: nothing was injected"
    if data.deviated or data.hypothesis_after is False:
        return "the steady state deviated: the hypothesis was not met after the method" + "".join(
            f"; {line}" for line in data.deviations)
    return None


def _rto_properties(data: ReportData) -> list[tuple[str, str]]:
    """``rto_s``, ``rto_error_s`` and the RTO as the reports show it (``12.40 s ± 0.03 s``), when measured."""
    found = [(key, f"{value:g}") for key in ("rto_s", "rto_error_s", "slow_ms")
             if isinstance(value := data.figures.get(key), int | float) and not isinstance(value, bool)]
    for objective in data.objectives:
        if objective.name == "rto_s" and objective.measured is not None:
            found.append(("rto", text.measured(objective, data.figures)))
    warning = text.rto_warning(data)
    if warning:
        found.append(("rto_warning", warning))
    if found:  # the same wording as the README and the reports
        found.extend((f"glossary_{term.replace(' ', '_')}", meaning) for term, meaning in GLOSSARY)
    return found


def render_junit(data: ReportData) -> bytes:
    """The JUnit XML document (UTF-8 bytes)."""
    classname = f"aftershock.{data.run.scenario}.{data.run.target}"
    cases: list[tuple[str, str | None, float]] = []
    for objective in data.objectives:
        failure = None if objective.met else objective.failure_message
        if failure and objective.name == "rto_s" and data.figures.get("rto_error_s") is not None:
            failure += f" (measured {text.measured(objective, data.figures)})"
        cases.append((objective.name, failure, 0.0))
    hypothesis_time = sum(s.duration_s or 0.0 for s in data.steps if s.phase.startswith("hypothesis"))
    cases.append(("steady-state-hypothesis", _hypothesis_failure(data), hypothesis_time))
    failures = sum(1 for _, failure, _ in cases if failure)
    suites = ET.Element("testsuites", name="aftershock", tests=str(len(cases)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name=classname, tests=str(len(cases)), failures=str(failures),
                          errors="0", skipped="0", time=f"{text.duration(data) or 0.0:.3f}",
                          timestamp=text.when(data.run.started_at))
    props = ET.SubElement(suite, "properties")
    for name, value in (("verdict", data.verdict), ("run_folder", str(data.run_dir)), ("status", data.status),
                        *_rto_properties(data)):
        ET.SubElement(props, "property", name=name, value=value)
    for name, failure, seconds in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
        if failure:
            ET.SubElement(case, "failure", message=failure, type="ObjectiveMissed").text = failure
    ET.indent(suites)
    document: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


__all__ = ["render_junit"]
