"""One wording of the RTO and its phases: the README states reports/glossary.py word for word, and report.md,
report.html and the JUnit properties carry the same text (Allure's description: test_report_plugin.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import escape
from pathlib import Path

from aftershock.reports.glossary import GLOSSARY, PHASES, RTO_DEFINITION, glossary_lines
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun

README = Path(__file__).resolve().parents[2] / "README.md"


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_states_the_glossary_word_for_word() -> None:
    readme = _words(README.read_text())
    missing = [line for line in glossary_lines() if _words(line) not in readme]
    assert missing == [], "README.md must quote reports/glossary.py (the RTO bullet's glossary)"
    assert [term for term, _ in GLOSSARY] == ["RTO", "detection", "failover", "client recovery", "warm-up",
                                              "unknown"]


def test_every_report_carries_the_same_glossary(run_factory: MakeRun) -> None:
    paths = write_reports(run_factory(rto_s=2.0, rto_target=15.0, rto_error_s=0.03), record_history=False)
    markdown = paths.markdown.read_text()
    assert RTO_DEFINITION in markdown
    assert all(f"- **{term}**: {meaning}" in markdown for term, meaning in PHASES)
    html = paths.html.read_text()
    assert all(f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>" in html for term, meaning in PHASES)
    suite = ET.parse(paths.junit).getroot().find("testsuite")
    assert suite is not None
    properties = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert {k: v for k, v in properties.items() if k.startswith("glossary_")} == {
        f"glossary_{term.replace(' ', '_')}": meaning for term, meaning in GLOSSARY}

