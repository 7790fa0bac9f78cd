"""Identity settings of the lab: the replicated table, the export period and the migration path.

    setting               seed on AWS (001_61a60dbeb29bf66d)        lab default
    export period         minutes (a scheduled export Lambda)      3 s
    replicated table      a DynamoDB global table                  shop-identity (a lab global table)
    migration path        reset, or a user-migration trigger       reset
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

IDENTITY_TABLE = "shop-identity"
EXPORT_MARKER = "export#latest"
"""Hash key of the item an export writes last: its snapshot time (what the standby imported up to)."""

MigrationPath = Literal["reset", "migration-trigger"]


@dataclass(frozen=True, kw_only=True)
class IdentitySettings:
    """Pools and replication of the lab's identity part (``IdentitySettings()``: the lab's defaults)."""

    export_period_s: float = 3.0
    table: str = IDENTITY_TABLE
    migration: MigrationPath = "reset"
    pool_name: str = "shop-users"

    def __post_init__(self) -> None:
        if not self.export_period_s > 0:
            raise ValueError(f"export_period_s must be > 0 seconds, got {self.export_period_s}")
        if self.migration != "reset":
            raise ValueError(f"migration {self.migration!r}: the lab implements 'reset' only (a user-migration "
                             "trigger needs Lambda, which the stand-ins do not run)")
