"""The lab's independent record of a run, for checking what aftershock measured.

RTO truth comes from the front door's access log (Envoy's own record of every request) and the lab's event
log; RPO truth from querying the database for the ledger's acknowledged writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from aftershock.lab.envoy import AccessRecord, read_access_log


def markers(run: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run / "markers.jsonl").read_text().splitlines()]


def first_marker(run: Path, kind: str) -> float:
    return float(next(m["ts"] for m in markers(run) if m["kind"] == kind))  # type: ignore[arg-type]


def rto_from_access_log(lab_dir: Path, fault_at: float, until: float, slow_ms: float | None = None,
                        listeners: tuple[str, ...] = ("front-door",)) -> float:
    """Seconds from ``fault_at`` to the first good request after the last bad one (0: no bad request).

    Bad is what a client would call it: a 5xx, no response (status 0), or an answer slower than ``slow_ms`` (the
    front door's own request duration), as the harness counts slow as bad. ``listeners``: whose logs to read
    (with the route53-failover front door clients reach the ALBs directly: ``("alb-us-east-1", "alb-us-west-2")``).
    """
    logs = [lab_dir / "envoy" / "logs" / f"access-{name}.jsonl" for name in listeners]
    records = [r for log in logs for r in read_access_log(log, since=fault_at - 0.2) if r.start < until]

    def bad(record: AccessRecord) -> bool:
        slow = slow_ms is not None and record.duration_ms is not None and record.duration_ms > slow_ms
        return record.status == 0 or record.status >= 500 or slow

    failed = [r.start for r in records if bad(r)]
    if not failed:
        return 0.0
    last_bad = max(failed)
    recovered = min(r.start for r in records if r.start > last_bad and not bad(r))
    return max(0.0, recovered - fault_at)


def acknowledged_seqs(run: Path) -> set[int]:
    seqs = set()
    for line in (run / "ledger.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "write" and record.get("outcome") == "ok":
            seqs.add(int(record["seq"]))
    return seqs


def lost_writes(run: Path, writer_dsn: str) -> set[int]:
    """Acknowledged ledger writes that the database does not hold."""
    acked = acknowledged_seqs(run)
    with psycopg.connect(writer_dsn, autocommit=True) as conn:
        present = {row[0] for row in conn.execute(
            "SELECT seq FROM aftershock_ledger WHERE writer = %s", (run.name,))}
    return acked - present


RTO_TOLERANCE_S = 0.1
"""How far the harness's RTO may lie from the access log's recovery edge (issue 11)."""

PHASES_SUM_TOLERANCE_S = 0.01


def check_rto_phases(figures: dict[str, object], lab_events: list[dict[str, object]]) -> None:
    """The RTO's phases are all known, add up to the RTO within 10 ms, and their boundaries are instants of the
    lab's own event log or Envoy's health-check log (not invented): detection and repair name a recorded event."""
    phases = figures["rto_phases"]
    assert isinstance(phases, dict), figures
    durations = [phases[k] for k in ("detection_s", "failover_s", "client_recovery_s")]
    assert None not in durations, phases
    assert abs(sum(durations) - float(figures["rto_s"])) <= PHASES_SUM_TOLERANCE_S, (durations, figures["rto_s"])  # type: ignore[arg-type]
    lab_instants = {round(float(e["ts"]), 6) for e in lab_events}  # type: ignore[arg-type]
    for at, by in ((phases["detected_at"], phases["detected_by"]), (phases["repaired_at"], phases["repaired_by"])):
        assert by, phases
        if not str(by).startswith("envoy "):
            assert round(float(at), 6) in lab_instants, (at, by)
