"""The RTO's wording, said once: the README, report.html/md, JUnit properties and Allure all quote these.

``tests/reports/test_glossary.py`` checks that the README states every entry word for word.

Example::

    for term, meaning in GLOSSARY:
        print(f"{term}: {meaning}")
"""

from __future__ import annotations

RTO_DEFINITION = ("RTO: from the first disruption of the method (a remediation step never restarts the clock) to "
                  "the first good request after the last bad one - a request is bad when it failed or took longer "
                  "than slow_ms - once traffic stayed good for the sustain period. The recovery instant lies "
                  "between the start of that last bad request and the first good one: ± is that interval, widened by "
                  "the load generator's event-loop lag around it and by the largest clock offset of remote "
                  "workers.")

PHASES: tuple[tuple[str, str], ...] = (
    ("detection", "from the disruption until the platform noticed (a health check ejected a host, the writer was "
                  "seen down, a pod died)."),
    ("failover", "until the platform repaired itself (promotion, endpoint moved, targets changed, traffic shifted "
                 "off a host, pod ready); it ends at the recovery when the clients recovered first."),
    ("client recovery", "from the repair until the RTO's end (0 when the clients recovered before the platform "
                        "finished)."),
    ("warm-up", "after the RTO, until p95 latency and the error rate are within the SLO for the sustain period."),
    ("unknown", "a phase whose boundary the target did not record; never guessed. Detection, failover and client "
                "recovery add up to the RTO when all are known."),
)
"""The RTO phases, in order, with what each means (``term``, ``meaning``)."""

GLOSSARY: tuple[tuple[str, str], ...] = (("RTO", RTO_DEFINITION.removeprefix("RTO: ")), *PHASES)
"""Every term the reports define: the RTO, then its phases."""


def glossary_lines() -> list[str]:
    """``term: meaning`` per entry, as the reports print them."""
    return [f"{term}: {meaning}" for term, meaning in GLOSSARY]


__all__ = ["GLOSSARY", "PHASES", "RTO_DEFINITION", "glossary_lines"]
