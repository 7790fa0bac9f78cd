"""The identity ledger's measurement: which numbered sign-ups survive a region failover, and what sessions do.

``lost`` is counted directly against the standby pool (the user does not exist there); ``after_last_export`` is
what the export schedule predicts (acknowledged after the last export snapshot the standby holds; None: the target
declares no export marker). ``rpo_s``: the failover minus that snapshot (None: unknown). Sessions: tokens issued
by the primary pool before the failover, replayed against the standby's pool after it; ``rejected_for_s`` is how
long they were seen rejected (``rejected_at_end``: still rejected when the probe stopped). ``signed_in`` and the
session counts are None (unknown) when read back from the run folder alone: the old passwords and the tokens lived
only in the memory of the process that signed the users up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from aftershock.core.kinds import MeasurementKind
from aftershock.core.measurement_base import Measurement


@dataclass(frozen=True, kw_only=True)
class IdentityRpoMeasurement(Measurement):
    """An identity ledger read back at the standby ``region`` after the failover at ``failover_at``."""

    kind: ClassVar[MeasurementKind] = MeasurementKind.IDENTITY_RPO
    region: str = ""
    run_id: str = ""
    migration: str = ""
    failover_at: float | None = None
    attempted: int = 0
    acknowledged: int = 0
    kept: int = 0
    lost: int = 0
    lost_seqs: tuple[int, ...] = ()
    after_last_export: int | None = None
    last_export_at: float | None = None
    rpo_s: float | None = None
    signed_in: int | None = 0
    login_attempts: int = 0
    login_failure_rate: float | None = None
    sessions_replayed: int | None = 0
    sessions_rejected: int | None = 0
    rejected_for_s: float | None = None
    rejected_at_end: bool = False
    cleaned: int = 0
    cleanup_errors: tuple[str, ...] = ()

    @property
    def rejected_session_rate(self) -> float | None:
        """Share of the replayed sessions the standby rejected (None: none replayed)."""
        if not self.sessions_replayed or self.sessions_rejected is None:
            return None
        return round(self.sessions_rejected / self.sessions_replayed, 4)

    @classmethod
    def _convert(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "lost_seqs": tuple(values.get("lost_seqs") or ()),
                "cleanup_errors": tuple(values.get("cleanup_errors") or ())}


__all__ = ["IdentityRpoMeasurement"]
