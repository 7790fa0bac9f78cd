"""Periodic observations of the target (``samples.jsonl``): the one format, its writer and its reader.

Written by the run's sampler every 0.5 s; read by the autoscaling probe, the game-day dashboard, the reports and
(AWS: ALB target health, GA endpoint health) the RTO phases.
A failed observation (the target may be mid-fault) is a record with an ``error`` and no figures, never hidden.

Example::

    append_sample(run, Sample(ts=time.time(), writer="db-east-a", writer_region="us-east-1",
                              replicas=(("us-east-1", 6, 6),)))
    [s.ready("us-east-1") for s in read_samples(run)]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aftershock.core.dns_sample import DnsSample
from aftershock.core.runfolder import RunFolder

SAMPLES_FILE = "samples.jsonl"


@dataclass(frozen=True)
class Sample:
    """One observation: writer location, replicas per region, replication lag, AZs down; or the error that
    prevented it (then every figure is empty)."""

    ts: float
    writer: str | None = None
    writer_region: str | None = None
    replicas: tuple[tuple[str, int, int], ...] = ()
    """``(region, desired, ready)`` per region, sorted by region."""
    lag_s: tuple[tuple[str, float | None], ...] = ()
    """Replication lag per reader node; None: the node's lag is unknown (not reported, not guessed)."""
    lag_bytes: tuple[tuple[str, float | None], ...] = ()
    azs_down: tuple[str, ...] = ()
    dials: tuple[tuple[str, int], ...] = ()
    healthy: bool | None = None
    error: str | None = None
    dns: DnsSample | None = None
    """A DNS front door's state (AWS: Route 53's view next to the harness's own resolution); None: not sampled."""
    alb_target_states: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    """AWS: ``(load balancer, ((target health state, count), ...))``, sorted; empty: not observed (the lab, older
    files)."""
    endpoints_healthy: tuple[tuple[str, bool], ...] = ()
    """AWS: ``(region, every Global Accelerator endpoint there HEALTHY)``, sorted; empty: not observed."""

    def region_replicas(self, region: str) -> tuple[int, int] | None:
        """``(desired, ready)`` of ``region``; None when the sample has no figure for it."""
        for name, desired, ready in self.replicas:
            if name == region:
                return desired, ready
        return None

    def to_record(self) -> dict[str, Any]:
        """The ``samples.jsonl`` line (the format the sampler has always written)."""
        if self.error is not None:
            return {"ts": self.ts, "error": self.error}
        return {"ts": self.ts, "writer": self.writer, "writer_region": self.writer_region,
                "replicas": {region: {"desired": desired, "ready": ready} for region, desired, ready in self.replicas},
                "dials": dict(self.dials), "azs_down": list(self.azs_down), "healthy": self.healthy,
                "replication_lag_s": dict(self.lag_s), "replication_lag_bytes": dict(self.lag_bytes),
                **({"dns": self.dns.to_record()} if self.dns is not None else {}),
                **({"alb_target_states": {lb: dict(states) for lb, states in self.alb_target_states}}
                   if self.alb_target_states else {}),
                **({"ga_endpoints_healthy": dict(self.endpoints_healthy)} if self.endpoints_healthy else {})}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Sample | None:
        """A sample from one line; None when the line has no timestamp (tolerant of old and partial lines)."""
        ts = _number(record.get("ts"))
        if ts is None:
            return None
        if "error" in record:
            return cls(ts=ts, error=str(record["error"]))
        replicas = record.get("replicas") or {}
        return cls(
            ts=ts,
            writer=str(record["writer"]) if record.get("writer") else None,
            writer_region=str(record["writer_region"]) if record.get("writer_region") else None,
            replicas=tuple(sorted((str(region), int(r.get("desired") or 0), int(r.get("ready") or 0))
                                  for region, r in replicas.items() if isinstance(r, Mapping)))
            if isinstance(replicas, Mapping) else (),
            lag_s=_pairs(record.get("replication_lag_s")),
            lag_bytes=_pairs(record.get("replication_lag_bytes")),
            azs_down=tuple(str(az) for az in record.get("azs_down") or ()),
            dials=tuple(sorted((str(k), int(v)) for k, v in (record.get("dials") or {}).items()
                               if _number(v) is not None)),
            healthy=record["healthy"] if isinstance(record.get("healthy"), bool) else None,
            dns=DnsSample.from_record(record["dns"]) if isinstance(record.get("dns"), Mapping) else None,
            alb_target_states=_states(record.get("alb_target_states")),
            endpoints_healthy=_flags(record.get("ga_endpoints_healthy")),
        )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _states(value: Any) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(lb), tuple(sorted((str(state), int(n)) for state, n in counts.items()
                                               if _number(n) is not None)))
                        for lb, counts in value.items() if isinstance(counts, Mapping)))


def _flags(value: Any) -> tuple[tuple[str, bool], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), v) for k, v in value.items() if isinstance(v, bool)))


def _pairs(value: Any) -> tuple[tuple[str, float | None], ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(sorted((str(k), _number(v)) for k, v in value.items() if v is None or _number(v) is not None))


def append_sample(run: RunFolder, sample: Sample) -> None:
    run.append(SAMPLES_FILE, sample.to_record())


def _sample(record: Any) -> Sample | None:
    if not isinstance(record, Mapping):
        return None
    try:
        return Sample.from_record(record)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def read_samples(run: RunFolder) -> list[Sample]:
    """Every complete sample of ``run``, in order (broken lines, lines without a timestamp and lines with fields of
    the wrong types are skipped)."""
    return [s for s in map(_sample, run.records(SAMPLES_FILE, skip_broken=True)) if s is not None]


_LEADING_TS = re.compile(r'\{"ts":\s*(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*[,}]')


def read_samples_between(run: RunFolder, since: float, until: float) -> list[Sample]:
    """The samples of ``run`` in ``[since, until]`` (epoch s), in order. A line whose leading ``ts`` (as
    :func:`append_sample` writes it) lies outside is skipped before it is parsed, so the end of a two-hour soak costs
    little more than reading the file; other lines are parsed and filtered (as :func:`read_samples`)."""
    if run.write_failure is not None:  # records kept in memory: the plain reader knows them
        return [s for s in read_samples(run) if since <= s.ts <= until]
    path = run.file(SAMPLES_FILE)
    if not path.exists():
        return []
    samples = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.endswith("\n"):
                break  # half-written last line
            leading = _LEADING_TS.match(line)
            if leading is not None and not since <= float(leading[1]) <= until:
                continue
            try:
                sample = _sample(json.loads(line))
            except ValueError:
                continue
            if sample is not None and since <= sample.ts <= until:
                samples.append(sample)
    return samples


__all__ = ["SAMPLES_FILE", "Sample", "append_sample", "read_samples", "read_samples_between"]
