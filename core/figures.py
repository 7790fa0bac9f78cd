"""The figures of a run (``summary.json``'s ``figures``): the last measurement of each kind, typed.

Built from ``measurements.jsonl`` (:meth:`Figures.from_measurements`) and written in the flat JSON format the
reports and the history read (:meth:`Figures.to_dict`, keys such as ``rto_s``, ``rpo_s``, ``lost_writes``; a
figure that was not measured has no key). :meth:`Figures.from_dict` reads that format back.

Example::

    figures = Figures.from_measurements(read_measurements(run))
    figures.figure("rto_s")      # 2.4, or None when not measured
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aftershock.core.measurements import (
    Measurement,
    OutageSpan,
    ReplicationLagMeasurement,
    RpoMeasurement,
    RtoMeasurement,
    ScalingMeasurement,
    TrafficShiftMeasurement,
)

SCALING_FIGURES = ("first_scale_s", "ready_capacity_s", "latency_slo_s")


@dataclass(frozen=True, kw_only=True)
class Figures:
    """The last measurement of each kind (None: not measured) and the traffic totals per request name."""

    rto: RtoMeasurement | None = None
    rpo: RpoMeasurement | None = None
    scaling: ScalingMeasurement | None = None
    traffic_shift: TrafficShiftMeasurement | None = None
    replication_lag: ReplicationLagMeasurement | None = None
    traffic: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_measurements(cls, measurements: Iterable[Measurement],
                          traffic: Iterable[Mapping[str, Any]] = ()) -> Figures:
        last: dict[type[Measurement], Measurement] = {}
        for measurement in measurements:
            last[type(measurement)] = measurement

        def pick(kind: type[Any]) -> Any:
            return last.get(kind)

        return cls(rto=pick(RtoMeasurement), rpo=pick(RpoMeasurement), scaling=pick(ScalingMeasurement),
                   traffic_shift=pick(TrafficShiftMeasurement), replication_lag=pick(ReplicationLagMeasurement),
                   traffic=tuple(traffic))

    def to_dict(self) -> dict[str, Any]:
        """The flat ``summary.json`` format (a figure not measured has no key)."""
        data: dict[str, Any] = {}
        if self.rto is not None:
            data["rto_s"] = self.rto.rto_s
            data["outages"] = self.rto.fields()["outages"]
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
        data["traffic"] = [dict(t) for t in self.traffic]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        """Read the flat format back (what it does not hold, such as the RTO's fault time, is 0)."""
        rto = None
        if "rto_s" in data:
            rto = RtoMeasurement.from_record({"ts": 0.0, "recovered": data["rto_s"] is not None,
                                              "rto_s": data["rto_s"], "fault_start": 0.0,
                                              "outages": data.get("outages") or ()})
        scaling = data.get("scaling")
        ledger = data.get("ledger")
        shift = data.get("traffic_shift_s", "absent")
        lag = data.get("replication_lag_s", "absent")
        return cls(
            rto=rto,
            rpo=RpoMeasurement.from_record({"ts": 0.0, **ledger}) if isinstance(ledger, Mapping) else None,
            scaling=ScalingMeasurement.from_record(scaling) if isinstance(scaling, Mapping) else None,
            traffic_shift=None if shift == "absent" else TrafficShiftMeasurement(
                ts=0.0, to_region="", shifted=shift is not None, shift_s=shift),
            replication_lag=None if lag == "absent" else ReplicationLagMeasurement(ts=0.0, worst_s=lag),
            traffic=tuple(t for t in data.get("traffic") or () if isinstance(t, Mapping)),
        )

    @property
    def outages(self) -> tuple[OutageSpan, ...]:
        return self.rto.outages if self.rto is not None else ()

    def figure(self, name: str) -> float | None:
        """A numeric figure by its objective name (``rto_s``, ``rpo_s``, ``lost_writes``, ...); None: not measured."""
        value = self.to_dict().get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["SCALING_FIGURES", "Figures"]
