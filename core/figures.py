"""The figures of a run (``summary.json``'s ``figures``): the last measurement of each kind, typed.

Built from ``measurements.jsonl`` (:meth:`Figures.from_measurements`) and written in the flat JSON format the
reports and the history read (:meth:`Figures.to_dict`, keys such as ``rto_s`` with its error bar
``rto_error_s``, ``rpo_s``, ``lost_writes``; a figure that was not measured has no key).
:meth:`Figures.from_dict` reads that format back.

Example::

    figures = Figures.from_measurements(read_measurements(run))
    figures.figure("rto_s")      # 2.4, or None when not measured
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aftershock.core.dns_measurement import DnsFailoverMeasurement
from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.core.measurements import (
    Measurement,
    OutageSpan,
    ReplicationLagMeasurement,
    RpoMeasurement,
    RtoMeasurement,
    ScalingMeasurement,
    StoreRpoMeasurement,
    TrafficShiftMeasurement,
)

SCALING_FIGURES = ("first_scale_s", "ready_capacity_s", "latency_slo_s")

RTO_ERROR_WARN_S = 0.1
RTO_ERROR_WARN_RATIO = 0.1
"""The report warns when an RTO's error bar exceeds 100 ms, or 10 % of a non-zero RTO."""
CLOCK_OFFSET_WARN_MS = 20.0
"""... or when a remote Locust worker's clock is further than this from the master's."""


def with_error(value: float, error: float | None, unit: str = "s") -> str:
    """``12.40 s ± 0.03 s`` (3 decimals when the error bar is under 10 ms); without an error bar, the value."""
    if error is None:
        return f"{value:.3g} {unit}".strip()
    digits = 3 if error < 0.01 else 2
    return f"{value:.{digits}f} {unit} ± {error:.{digits}f} {unit}"


def rto_error_warning(rto_s: float | None, rto_error_s: float | None,
                      clock_offset_ms: float | None = None) -> str | None:
    """Why an RTO's error bar is too wide to trust the figure to its digits (None: it is narrow enough)."""
    if rto_s is None or rto_error_s is None:
        return None
    if clock_offset_ms is not None and clock_offset_ms > CLOCK_OFFSET_WARN_MS:
        return (f"a Locust worker's clock is {clock_offset_ms:.0f} ms off the master's (more than "
                f"{CLOCK_OFFSET_WARN_MS:.0f} ms): the RTO's error bar (± {rto_error_s:.3f} s) includes it; "
                "synchronise the load hosts' clocks (chrony / Amazon Time Sync)")
    if rto_error_s > RTO_ERROR_WARN_S or (rto_s > 0 and rto_error_s > RTO_ERROR_WARN_RATIO * rto_s):
        return (f"the RTO is only known to ± {rto_error_s:.3f} s (more than 100 ms or 10 % of "
                f"{rto_s:.3f} s): too few requests around the recovery; raise the load or the fresh-connection "
                "probe's rate")
    return None


@dataclass(frozen=True, kw_only=True)
class Figures:
    """The last measurement of each kind (None: not measured) and the traffic totals per request name."""

    rto: RtoMeasurement | None = None
    rpo: RpoMeasurement | None = None
    scaling: ScalingMeasurement | None = None
    traffic_shift: TrafficShiftMeasurement | None = None
    replication_lag: ReplicationLagMeasurement | None = None
    traffic: tuple[Mapping[str, Any], ...] = ()
    stores: tuple[StoreRpoMeasurement, ...] = ()
    """The store ledgers (DynamoDB, S3), the last read-back of each store."""
    identity: IdentityRpoMeasurement | None = None
    """The identity ledger (sign-ups and sessions across a region failover)."""
    dns: DnsFailoverMeasurement | None = None
    """The DNS-failover probe (detection, resolved / served at the secondary, TTL, answers seen)."""

    @classmethod
    def from_measurements(cls, measurements: Iterable[Measurement],
                          traffic: Iterable[Mapping[str, Any]] = ()) -> Figures:
        last: dict[type[Measurement], Measurement] = {}
        stores: dict[str, StoreRpoMeasurement] = {}
        for measurement in measurements:
            last[type(measurement)] = measurement
            if isinstance(measurement, StoreRpoMeasurement):
                stores[measurement.store] = measurement

        def pick(kind: type[Any]) -> Any:
            return last.get(kind)

        return cls(rto=pick(RtoMeasurement), rpo=pick(RpoMeasurement), scaling=pick(ScalingMeasurement),
                   traffic_shift=pick(TrafficShiftMeasurement), replication_lag=pick(ReplicationLagMeasurement),
                   traffic=tuple(traffic), stores=tuple(stores.values()), identity=pick(IdentityRpoMeasurement),
                   dns=pick(DnsFailoverMeasurement))

    def to_dict(self) -> dict[str, Any]:
        """The flat ``summary.json`` format (a figure not measured has no key)."""
        data: dict[str, Any] = {}
        if self.rto is not None:
            rto = self.rto.fields()
            data["rto_s"] = self.rto.rto_s
            data["rto_error_s"] = self.rto.rto_error_s
            data["outages"] = rto["outages"]
            data["remediations"] = rto["remediations"]
            data["slow_ms"] = self.rto.slow_ms
            if self.rto.clock_offset_ms is not None:
                data["clock_offset_ms"] = self.rto.clock_offset_ms
            if self.rto.loop_lag_ms is not None:
                data["loop_lag_ms"] = self.rto.loop_lag_ms
            if self.rto.phases is not None:
                data["rto_phases"] = rto["phases"]
        if self.scaling is not None:
            for key in SCALING_FIGURES:
                data[key] = getattr(self.scaling, key)
            data["scaling"] = self.scaling.to_record()
        if self.traffic_shift is not None:
            data["traffic_shift_s"] = self.traffic_shift.shift_s
        if self.replication_lag is not None:
            data["replication_lag_s"] = self.replication_lag.worst_s
        if self.rpo is not None:
            data.update(rpo_s=self.rpo.rpo_s, lost_writes=self.rpo.lost, in_doubt_writes=self.rpo.in_doubt,
                        acknowledged_writes=self.rpo.acknowledged, ledger=self.rpo.fields())
        for store in self.stores:  # flat figures per store, for objectives and history
            data[f"{store.store}_rpo_s"], data[f"{store.store}_lost"] = store.rpo_s, store.lost
            data.setdefault("stores", {})[store.store] = store.fields()
        if self.identity is not None:  # flat figures for the identity objectives
            data.update(identity_rpo_s=self.identity.rpo_s, identity_lost=self.identity.lost,
                        rejected_sessions=self.identity.sessions_rejected,
                        rejected_session_rate=self.identity.rejected_session_rate,
                        login_failure_rate=self.identity.login_failure_rate, identity=self.identity.fields())
        if self.dns is not None:  # flat figures for objectives and history, the whole record for the report
            data.update(dns_resolved_s=self.dns.resolved_s, dns_served_s=self.dns.served_s, dns=self.dns.fields())
        data["traffic"] = [dict(t) for t in self.traffic]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        """Read the flat format back (what it does not hold, such as the RTO's fault time, is 0)."""
        rto = None
        if "rto_s" in data:
            rto = RtoMeasurement.from_record({"ts": 0.0, "recovered": data["rto_s"] is not None,
                                              "rto_s": data["rto_s"], "rto_error_s": data.get("rto_error_s"),
                                              "fault_start": 0.0, "slow_ms": data.get("slow_ms"),
                                              "clock_offset_ms": data.get("clock_offset_ms"),
                                              "loop_lag_ms": data.get("loop_lag_ms"),
                                              "outages": data.get("outages") or (),
                                              "remediations": data.get("remediations") or (),
                                              "phases": data.get("rto_phases")})
        scaling = data.get("scaling")
        ledger = data.get("ledger")
        shift = data.get("traffic_shift_s", "absent")
        lag = data.get("replication_lag_s", "absent")
        identity = data.get("identity")
        dns = data.get("dns")
        return cls(
            rto=rto,
            rpo=RpoMeasurement.from_record({"ts": 0.0, **ledger}) if isinstance(ledger, Mapping) else None,
            scaling=ScalingMeasurement.from_record(scaling) if isinstance(scaling, Mapping) else None,
            traffic_shift=None if shift == "absent" else TrafficShiftMeasurement(
                ts=0.0, to_region="", shifted=shift is not None, shift_s=shift),
            replication_lag=None if lag == "absent" else ReplicationLagMeasurement(ts=0.0, worst_s=lag),
            traffic=tuple(t for t in data.get("traffic") or () if isinstance(t, Mapping)),
            stores=tuple(StoreRpoMeasurement.from_record({"ts": 0.0, **s}) for s in (data.get("stores") or {}).values()
                         if isinstance(s, Mapping)),
            identity=IdentityRpoMeasurement.from_record({"ts": 0.0, **identity}) if isinstance(identity, Mapping)
            else None,
            dns=DnsFailoverMeasurement.from_record({"ts": 0.0, **dns}) if isinstance(dns, Mapping) else None,
        )

    @property
    def outages(self) -> tuple[OutageSpan, ...]:
        return self.rto.outages if self.rto is not None else ()

    def figure(self, name: str) -> float | None:
        """A numeric figure by its objective name (``rto_s``, ``rpo_s``, ``lost_writes``, ...); None: not measured."""
        value = self.to_dict().get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["CLOCK_OFFSET_WARN_MS", "RTO_ERROR_WARN_RATIO", "RTO_ERROR_WARN_S", "SCALING_FIGURES", "Figures",
           "rto_error_warning", "with_error"]
