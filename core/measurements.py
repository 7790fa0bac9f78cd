"""The one catalogue of what a run folder records: marker kinds, measurement kinds, and the typed measurements.

``markers.jsonl`` holds ``{"ts", "kind", ...}`` points in time (:class:`MarkerKind`); ``measurements.jsonl``
holds what probes measured (:class:`MeasurementKind`), one frozen dataclass per kind. The string values are
the on-disk format: old run folders load unchanged, and a record of an unknown kind is skipped by the readers.

Example::

    run.mark(MarkerKind.FAULT_START, action="az_outage")
    record_measurement(run, RtoMeasurement(ts=time.time(), recovered=True, rto_s=2.4, fault_start=t0))
    last_measurement(run, RtoMeasurement).rto_s        # 2.4
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aftershock.core.dns_measurement import DnsFailoverMeasurement
from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.core.kinds import FaultRole, MarkerKind, MeasurementKind
from aftershock.core.measurement_base import M, Measurement
from aftershock.core.phases import RtoPhases
from aftershock.core.runfolder import MARKERS, RunFolder

MEASUREMENTS = "measurements.jsonl"


# -- markers -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerRecord:
    """One marker as read back: its time, its kind (a plain string when not in the catalogue) and its fields."""

    ts: float
    kind: MarkerKind | str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def _kind(value: Any) -> MarkerKind | str:
    try:
        return MarkerKind(value)
    except ValueError:
        return str(value)


def read_markers(run: RunFolder) -> list[MarkerRecord]:
    """The run's markers, in the order written (a record without a numeric ``ts`` is skipped)."""
    found = []
    for record in run.records(MARKERS, skip_broken=True):
        ts = record.get("ts")
        if isinstance(ts, int | float) and not isinstance(ts, bool):
            fields = {k: v for k, v in record.items() if k not in ("ts", "kind")}
            found.append(MarkerRecord(float(ts), _kind(record.get("kind")), fields))
    return found


def applied_fault_starts(markers: Iterable[MarkerRecord]) -> list[MarkerRecord]:
    """The ``fault.start`` markers of faults that were applied (not aborted), oldest first."""
    markers = list(markers)
    aborted = {m.get("started_at") for m in markers if m.kind is MarkerKind.FAULT_ABORTED}
    return sorted((m for m in markers if m.kind is MarkerKind.FAULT_START and m.ts not in aborted),
                  key=lambda m: m.ts)


def fault_role(marker: MarkerRecord) -> FaultRole:
    """The role a ``fault.start`` marker carries (a marker without one, or with an unknown one, disrupts)."""
    return FaultRole.REMEDIATION if marker.get("role") == FaultRole.REMEDIATION else FaultRole.DISRUPTION


def last_fault_start(markers: Iterable[MarkerRecord]) -> float | None:
    """Epoch seconds of the most recent ``fault.start`` of a fault that was applied (not aborted)."""
    starts = applied_fault_starts(markers)
    return starts[-1].ts if starts else None


def disruption_start(markers: Iterable[MarkerRecord], *, since: float | None = None) -> MarkerRecord | None:
    """The ``fault.start`` the RTO clock starts at: the first applied disruption (at or after ``since``, epoch s);
    remediations never start it. None: no disruption yet."""
    for marker in applied_fault_starts(markers):
        if fault_role(marker) is FaultRole.DISRUPTION and (since is None or marker.ts >= since):
            return marker
    return None


# -- measurements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageSpan:
    """One outage after a fault (epoch seconds; ``end`` None: still ongoing).

    ``failures`` and ``slow`` count its bad requests; ``start_error``/``end_error`` are the widths of the
    intervals its true edges lie in (None: unknown - no good request before it, or not over).
    """

    start: float
    end: float | None
    failures: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)
    slow: int = 0
    start_error: float | None = None
    end_error: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutageSpan:
        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(float(data["start"]), opt("end"), int(data.get("failures") or 0), dict(data.get("errors") or {}),
                   int(data.get("slow") or 0), opt("start_error"), opt("end_error"))


@dataclass(frozen=True)
class PhaseMark:
    """A remediation step after the disruption (epoch seconds): a phase boundary, not a new RTO origin."""

    at: float
    action: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhaseMark:
        return cls(float(data["at"]), str(data.get("action") or ""))


@dataclass(frozen=True, kw_only=True)
class RtoMeasurement(Measurement):
    """The recovery probe: from the disruption to a sustained recovery (``rto_s`` None: not recovered in time).

    ``fault_start`` is the first disruption's ``fault.start`` (``fault_action`` its action); ``remediations``
    are the remediation steps after it. The recovery instant lies within ``rto_s +- rto_error_s`` (``rto_s`` is
    measured to the first good request after the last bad one; ``rto_error_s`` is the time back to the start
    of that last bad request, or without an outage the time to the first success after the fault).
    ``slow_ms``: the latency above which a success counted as bad (None: the timeline recorded none).
    ``clock_offset_ms``: the largest clock offset of a remote Locust worker to the master (None: one host); the
    error bar includes it, since a worker's requests sit in the timeline by its own clock.
    ``loop_lag_ms``: the load generator's worst scheduling delay around the recovery edge (how much later than its
    start time a request may have been sent; None: not recorded); the error bar includes it.
    """

    kind: ClassVar[MeasurementKind] = MeasurementKind.RTO
    recovered: bool = False
    rto_s: float | None = None
    rto_error_s: float | None = None
    fault_start: float = 0.0
    fault_action: str = ""
    recovered_at: float | None = None
    sustain_s: float = 0.0
    min_ok_ratio: float = 0.0
    slow_ms: float | None = None
    outages: tuple[OutageSpan, ...] = ()
    remediations: tuple[PhaseMark, ...] = ()
    phases: RtoPhases | None = None
    """Detection, failover, client recovery and warm-up (:mod:`aftershock.core.phases`); None: not split."""
    clock_offset_ms: float | None = None
    loop_lag_ms: float | None = None

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        outages = values.get("outages") or ()
        remediations = values.get("remediations") or ()
        phases = values.get("phases")
        return {**values, "phases": RtoPhases.from_dict(phases) if isinstance(phases, Mapping) else None,
                "outages": tuple(OutageSpan.from_dict(o) for o in outages if isinstance(o, Mapping)
                                 and o.get("start") is not None),
                "remediations": tuple(PhaseMark.from_dict(r) for r in remediations if isinstance(r, Mapping)
                                      and r.get("at") is not None)}


@dataclass(frozen=True, kw_only=True)
class RpoMeasurement(Measurement):
    """The RPO write ledger read back from the (new) writer once the ledger stopped (counts are write attempts)."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.RPO
    run_id: str = ""
    attempted: int = 0
    acknowledged: int = 0
    kept: int = 0
    lost: int = 0
    in_doubt: int = 0
    in_doubt_present: int = 0
    in_doubt_absent: int = 0
    failed_before_send: int = 0
    rejected: int = 0
    unexpected_present: int = 0
    rpo_s: float = 0.0
    first_lost_ack_at: float | None = None
    last_lost_ack_at: float | None = None
    lost_seqs: tuple[int, ...] = ()
    write_rate_per_s: float = 0.0
    first_sent_at: float | None = None
    last_sent_at: float | None = None
    skipped_lines: int = 0
    rpo_definition: str = ""

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "lost_seqs": tuple(values.get("lost_seqs") or ())}


@dataclass(frozen=True, kw_only=True)
class StoreRpoMeasurement(Measurement):
    """A store ledger (DynamoDB items, S3 objects) read back from ``region``: counts, RPO, replica-side lag (s)."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.STORE_RPO
    store: str = ""
    region: str = ""
    run_id: str = ""
    attempted: int = 0
    acknowledged: int = 0
    kept: int = 0
    lost: int = 0
    in_doubt: int = 0
    rejected: int = 0
    failed_before_send: int = 0
    rpo_s: float = 0.0
    lost_seqs: tuple[int, ...] = ()
    write_rate_per_s: float = 0.0
    lag_samples: int = 0
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    lag_max_s: float | None = None
    lag_resolution_s: float | None = None

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "lost_seqs": tuple(values.get("lost_seqs") or ())}


@dataclass(frozen=True, kw_only=True)
class ScalingMeasurement(Measurement):
    """The autoscaling probe: times from the load step (``None``: did not happen in time)."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.SCALING
    region: str = ""
    step_at: float = 0.0
    baseline_replicas: int | None = None
    peak_desired: int | None = None
    first_scale_s: float | None = None
    ready_capacity_s: float | None = None
    latency_slo_s: float | None = None
    max_p95_ms: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TrafficShiftMeasurement(Measurement):
    """The traffic-shift probe: seconds from the fault until the front door answered from ``to_region``."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.TRAFFIC_SHIFT
    to_region: str = ""
    shifted: bool = False
    requests: int = 0
    shift_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class ReplicationLagMeasurement(Measurement):
    """The replication-lag probe: each reader's lag, the worst, and whether it was within the limit."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.REPLICATION_LAG
    lag_s: Mapping[str, float] = field(default_factory=dict)
    worst_s: float | None = None
    limit_s: float = 0.0
    met: bool = False
    region: str | None = None


@dataclass(frozen=True, kw_only=True)
class SloWindow(Measurement):
    """An SLO probe over a recent window (``value`` None: too few requests). ``generator_lag_ms``: how late the
    load generator's own loop ran in the window (None: not recorded), a delay its latencies include."""

    value: float | None = None
    limit: float = 0.0
    met: bool = False
    requests: int = 0
    window_s: float = 0.0
    generator_lag_ms: float | None = None


@dataclass(frozen=True, kw_only=True)
class SloErrorRate(SloWindow):
    """The error-rate SLO probe: failed / total."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.SLO_ERROR_RATE


@dataclass(frozen=True, kw_only=True)
class SloP95(SloWindow):
    """The p95-latency SLO probe, in milliseconds."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.SLO_P95_MS


@dataclass(frozen=True, kw_only=True)
class ReportError(Measurement):
    """Writing the reports failed (the summary still stands)."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.REPORT_ERROR
    error: str = ""


MEASUREMENT_TYPES: dict[MeasurementKind, type[Measurement]] = {
    cls.kind: cls for cls in (RtoMeasurement, RpoMeasurement, StoreRpoMeasurement, ScalingMeasurement,
                              TrafficShiftMeasurement, ReplicationLagMeasurement, SloErrorRate, SloP95, ReportError,
                              IdentityRpoMeasurement, DnsFailoverMeasurement)
}


def record_measurement(run: RunFolder, measurement: M) -> M:
    """Append ``measurement`` to the run's ``measurements.jsonl``; returns it."""
    run.append(MEASUREMENTS, measurement.to_record())
    return measurement


def read_measurements(run: RunFolder) -> Iterator[Measurement]:
    """The run's measurements in the order recorded; records of unknown kinds or broken fields are skipped."""
    for record in run.records(MEASUREMENTS, skip_broken=True):
        try:
            cls = MEASUREMENT_TYPES[MeasurementKind(str(record.get("kind")))]
            yield cls.from_record(record)
        except (ValueError, TypeError, KeyError):
            continue


def measurements_of(run: RunFolder, cls: type[M]) -> list[M]:
    """Every measurement of type ``cls``, oldest first."""
    return [m for m in read_measurements(run) if isinstance(m, cls)]


def last_measurement(run: RunFolder, cls: type[M]) -> M | None:
    """The most recent measurement of type ``cls`` (None: never measured)."""
    found = measurements_of(run, cls)
    return found[-1] if found else None


__all__ = [
    "MARKERS",
    "MEASUREMENTS",
    "MEASUREMENT_TYPES",
    "IdentityRpoMeasurement",
    "M",
    "MarkerKind",
    "MarkerRecord",
    "Measurement",
    "MeasurementKind",
    "OutageSpan",
    "PhaseMark",
    "ReplicationLagMeasurement",
    "ReportError",
    "RpoMeasurement",
    "RtoMeasurement",
    "ScalingMeasurement",
    "SloErrorRate",
    "SloP95",
    "SloWindow",
    "StoreRpoMeasurement",
    "TrafficShiftMeasurement",
    "applied_fault_starts",
    "disruption_start",
    "fault_role",
    "last_fault_start",
    "last_measurement",
    "measurements_of",
    "read_markers",
    "read_measurements",
    "record_measurement",
]
