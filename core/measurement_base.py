"""The base of every typed measurement (what a probe measured, at ``ts``): its record format and conversions.

Kept apart from the catalogue (:mod:`aftershock.core.measurements`) so measurement types can live in modules of
their own and still be registered there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from aftershock.core.kinds import MeasurementKind


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """What a probe measured, at ``ts`` (epoch seconds). Subclasses name their :attr:`kind`."""

    kind: ClassVar[MeasurementKind]
    ts: float

    def fields(self) -> dict[str, Any]:
        """The measured values as plain JSON values (what a probe returns into the Chaos Toolkit journal)."""
        data = dataclasses.asdict(self)
        data.pop("ts")
        return {k: _plain(v) for k, v in data.items()}

    def to_record(self) -> dict[str, Any]:
        """The ``measurements.jsonl`` record."""
        return {"ts": self.ts, "kind": self.kind.value, **self.fields()}

    @classmethod
    def from_record(cls: type[M], record: Mapping[str, Any]) -> M:
        """Build from a record; unknown keys are ignored, missing ones take their defaults (old run folders load)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in record.items() if k in names}
        return cls(**cls._convert(values))

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        return values


M = TypeVar("M", bound=Measurement)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


__all__ = ["M", "Measurement"]
