"""The report's identity section (summary.json ``identity``): the identity ledger read back at the standby pool
after a region failover.

Rows: users signed up, lost at the standby (counted against its pool: the identity RPO count) with the time since
the last completed export, the migration path the target declares, sign-in success at the standby, sessions
replayed and rejected (forced re-logins) and for how long. An unknown figure reads "unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aftershock.core.identity import MIGRATION_TEXTS
from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.reports.text import when

__all__ = ["identity_sections"]

UNKNOWN = "unknown"


def _s(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:.3f} s"


_IN_MEMORY = " (it needs what only the process that signed the users up held)"


def _share(part: int | None, whole: int | None) -> str:
    if part is None or whole is None:
        return UNKNOWN + _IN_MEMORY
    return f"{part} of {whole} ({100.0 * part / whole:.1f} %)" if whole else UNKNOWN


def _lost(m: IdentityRpoMeasurement) -> str:
    if not m.acknowledged:
        return f"{m.lost} (no sign-up was acknowledged)"
    seqs = ", ".join(f"#{seq}" for seq in m.lost_seqs[:10]) + (", ..." if len(m.lost_seqs) > 10 else "")
    return f"{m.lost} of {m.acknowledged}" + (f" ({seqs})" if seqs else "")


def _last_export(m: IdentityRpoMeasurement) -> str:
    if m.last_export_at is None:
        return UNKNOWN + " (the target declares no export marker)"
    if m.failover_at is None:
        return f"snapshot of {when(m.last_export_at)} (the failover time is unknown)"
    return f"snapshot of {when(m.last_export_at)}, {m.failover_at - m.last_export_at:.3f} s before the failover"


def _rejected_for(m: IdentityRpoMeasurement) -> str:
    if m.sessions_replayed is None:
        return UNKNOWN + _IN_MEMORY
    if not m.sessions_replayed:
        return UNKNOWN + " (no session replayed)"
    if not m.sessions_rejected:
        return "0 s (none rejected)"
    text = _s(m.rejected_for_s)
    return text + " (still rejected when the probe stopped)" if m.rejected_at_end else text


def identity_rows(m: IdentityRpoMeasurement) -> list[tuple[str, str]]:
    """The section's rows, figure by figure."""
    rows = [
        ("migration path (declared by the target)", MIGRATION_TEXTS.get(m.migration, m.migration or UNKNOWN)),
        ("users signed up (attempted)", str(m.attempted)),
        ("sign-ups acknowledged by the primary", str(m.acknowledged)),
        ("users lost at the standby (identity RPO count)", _lost(m)),
        ("predicted lost by the export schedule", UNKNOWN if m.after_last_export is None
         else str(m.after_last_export)),
        ("last completed export at the standby", _last_export(m)),
        ("identity RPO (failover - last completed export)", _s(m.rpo_s)),
        ("sign-in success at the standby", _share(m.signed_in, m.login_attempts)),
        ("sessions replayed (issued before the failover)",
         UNKNOWN + _IN_MEMORY if m.sessions_replayed is None else str(m.sessions_replayed)),
        ("sessions rejected (forced re-logins)", _share(m.sessions_rejected, m.sessions_replayed)),
        ("sessions rejected for (from the failover)", _rejected_for(m)),
        ("test users deleted after the read-back", str(m.cleaned) + (
            f" (failed in {'; '.join(m.cleanup_errors)}: the rollback and `aftershock recover` delete them again)"
            if m.cleanup_errors else "")),
    ]
    return rows


def identity_sections(figures: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(title, rows)]``: one section when the run read an identity ledger back, else none."""
    data = figures.get("identity")
    if not isinstance(data, Mapping):
        return []
    measured = IdentityRpoMeasurement.from_record({"ts": 0.0, **data})
    region = measured.region or UNKNOWN
    return [(f"Identity ledger (read back at the standby user pool in {region})", identity_rows(measured))]
