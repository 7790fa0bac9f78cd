"""The run summary (``summary.json``): the figures, each objective judged, and the verdict.

Figures come only from measurement (``measurements.jsonl``, typed in :mod:`aftershock.core.measurements`): RTO
from the recovery probe (the traffic), RPO and lost/in-doubt writes from reading the ledger back once (by the
RPO probe, else here at the end of the run), scaling times from the autoscaling probe. The plan (``run.json``)
says which objectives are judged and their targets. A figure that
was not measured is ``null`` and its objective is not met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from aftershock.core.figures import Figures
from aftershock.core.kinds import MarkerKind
from aftershock.core.measurements import read_markers, read_measurements
from aftershock.core.plan import RunPlan, read_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.timeline.summary import summarize
from aftershock.core.verdict import SUMMARY_FILE, Summary, Verdict, read_summary
from aftershock.deviations import deviations
from aftershock.probes.live import timeline_now


def _ledger(run: RunFolder, errors: list[str]) -> None:
    """Make sure the ledger was read back once (the RPO probe usually did; else now, after the ledger stopped)."""
    if not run.file("ledger.jsonl").exists():
        return
    from aftershock.probes.ledger.activities import read_back_once

    try:
        read_back_once(run, timeout_s=30)
    except Exception as exc:  # the summary still gets written; the failure is reported in it
        errors.append(f"ledger read-back failed: {exc}")


def _store_ledgers(run: RunFolder, errors: list[str]) -> None:
    """Read the store ledgers (DynamoDB, S3) back once, if the run had any."""
    if any(run.file(f"ledger-{store}.jsonl").exists() for store in ("dynamodb", "s3")):
        from aftershock.probes.ledger.store_activities import read_back_stores_once

        errors.extend(read_back_stores_once(run))


def build_summary(run: RunFolder, plan: RunPlan | None = None, errors: Iterable[str] = ()) -> Summary:
    """Judge the run from its plan (objectives, judged names) and what was measured; ``errors`` from the
    post-processing make it fail."""
    plan = plan or read_plan(run)
    errors = list(errors)
    journal = run.read_json("journal.json") if run.file("journal.json").exists() else {}
    _ledger(run, errors)
    _store_ledgers(run, errors)
    timeline = timeline_now(run)
    traffic = [asdict(s) for s in summarize(timeline)] if timeline.total else []
    figures = Figures.from_measurements(read_measurements(run), traffic)
    wanted = plan.objectives
    verdicts = [Verdict.judge(name, wanted.get(name, 0.0), figures.figure(name) if name in wanted else None)
                for name in plan.judged]
    status = str(journal.get("status") or "unknown")
    if any(m.kind is MarkerKind.RUN_INTERRUPTED for m in read_markers(run)):
        status = "interrupted"  # a signal arrived, even if Chaos Toolkit finished the journal as completed
    deviated = bool(journal.get("deviated", False))
    partial = not journal
    passed = status == "completed" and not deviated and bool(verdicts) and all(v.met for v in verdicts) and not errors
    return Summary(scenario=plan.scenario, disruption=plan.disruption, target=plan.target, status=status,
                   deviated=deviated, passed=passed, partial=partial, figures=figures, objectives=verdicts,
                   errors=errors, deviations=deviations(run, journal) if deviated else [])


def write_summary(run: RunFolder, plan: RunPlan | None = None, errors: Iterable[str] = ()) -> Summary:
    summary = build_summary(run, plan, errors)
    run.write_json(SUMMARY_FILE, summary.to_dict())
    return summary


__all__ = ["SUMMARY_FILE", "Summary", "build_summary", "read_summary", "write_summary"]
