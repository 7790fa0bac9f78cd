"""The catalogue of marker kinds (``markers.jsonl``) and measurement kinds (``measurements.jsonl``).

The string values are the on-disk format; code names kinds only through these enums. The typed measurements
are in :mod:`aftershock.core.measurements`.
"""

from __future__ import annotations

from enum import StrEnum


class MarkerKind(StrEnum):
    """Every marker a run writes (``markers.jsonl``), with the fields it carries."""

    FAULT_START = "fault.start"
    """A fault action begins (``action``, ``args``, ``role``: a :class:`FaultRole`). The first disruption of the
    method starts the RTO clock; a remediation never restarts it (it is a phase boundary)."""
    FAULT_END = "fault.end"
    """The fault is injected (``action``, ``description``)."""
    FAULT_ABORTED = "fault.aborted"
    """The fault was refused or failed half-way (``action``, ``started_at``, ``error``): nothing measures from it."""
    FAULT_REVERTED = "fault.reverted"
    """A fault was reverted (``fault_id``, ``action``, ``by``: rollback, safety-net, recover)."""
    TARGET_HEALTHY = "target.healthy"
    """The target is back to its baseline (``waited_s``)."""
    ACTIVITY_START = "activity.start"
    """A Chaos Toolkit activity begins (``name``, ``type``, ``func``; ``role`` when it declares
    ``aftershock_role``)."""
    ACTIVITY_END = "activity.end"
    """An activity ended (``name``, ``type``, ``func``, ``status``)."""
    HYPOTHESIS_START = "hypothesis.start"
    HYPOTHESIS_END = "hypothesis.end"
    """The steady-state hypothesis was judged (``met``)."""
    METHOD_START = "method.start"
    METHOD_END = "method.end"
    ROLLBACKS_START = "rollbacks.start"
    ROLLBACKS_END = "rollbacks.end"
    RUN_INTERRUPTED = "run.interrupted"
    """Ctrl-C or SIGTERM arrived (``signal``, optionally ``where``)."""
    RUN_FINISHED = "run.finished"
    """Post-processing is done (safety net, summary, reports; ``by``: who did it)."""
    LOAD_STARTED = "load.started"
    """The load generator runs (``users``, ``shape``, ``workers``)."""
    LOAD_WARM = "load.warm"
    LOAD_SOAKED = "load.soaked"
    """Traffic reached the timeline (``requests``)."""
    LOAD_STOPPED = "load.stopped"
    """The load generator stopped (``exit_code``)."""
    LOAD_WORKERS_MISSING = "load.workers_missing"
    """Remote Locust workers never connected, so nothing was injected (``message``: what to run on them)."""
    LOAD_WORKER_LOST = "load.worker_lost"
    """A Locust worker stopped reporting mid-run (``worker``, ``at``, ``state``): its load dropped."""
    LEDGER_STARTED = "ledger.started"
    """The RPO write ledger runs (``rate_per_s``)."""
    LEDGER_STOPPED = "ledger.stopped"
    """The RPO write ledger stopped (its counters)."""


class FaultRole(StrEnum):
    """What a fault action is in the experiment (its ``aftershock_role`` key; default: disruption)."""

    DISRUPTION = "disruption"
    """The fault under test: the first one of the method starts the RTO clock."""
    REMEDIATION = "remediation"
    """A step of the recovery runbook (a dial change, a switchover done to recover): never restarts the clock."""


class MeasurementKind(StrEnum):
    """Every measurement kind (``measurements.jsonl``); each has its dataclass below."""

    RTO = "rto"
    RPO = "rpo"
    STORE_RPO = "store_rpo"
    IDENTITY_RPO = "identity_rpo"
    SCALING = "scaling"
    TRAFFIC_SHIFT = "traffic_shift"
    DNS_FAILOVER = "dns_failover"
    REPLICATION_LAG = "replication_lag"
    SLO_ERROR_RATE = "slo.error_rate"
    SLO_P95_MS = "slo.p95_ms"
    REPORT_ERROR = "report.error"


__all__ = ["FaultRole", "MarkerKind", "MeasurementKind"]
