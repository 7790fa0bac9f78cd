"""A target's identity: a Cognito user pool per region and how users reach the standby pool.

Example (an AWS target)::

    identity:
      pools:
        - {region: us-east-1, pool_id: us-east-1_AbCdEf123, client_id: 1example23456789}
        - {region: us-west-2, pool_id: us-west-2_GhIjKl456, client_id: 9example87654321}
      migration: reset              # or migration-trigger (a user-migration Lambda on the standby pool)
      export_period_s: 300          # the seed's scheduled export
      table: shop-identity          # the replicated (global) table the export writes
      export_marker: export#latest  # hash key of the item an export writes last ({snapshot_at}); optional
      test_user_prefix: aftershock-test

``pools`` are the only pools the harness touches (every call is checked), and only users whose name starts with
``test_user_prefix`` are created or deleted. ``endpoints``: the API endpoint per region (the lab's stand-ins;
empty on AWS).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityPool(_Model):
    region: str
    pool_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)


class Identity(_Model):
    pools: tuple[IdentityPool, ...] = Field(min_length=1)
    endpoints: dict[str, str] = Field(default_factory=dict)
    migration: Literal["reset", "migration-trigger"] = "reset"
    export_period_s: float = Field(gt=0)
    table: str | None = None
    export_marker: str | None = None
    test_user_prefix: str = "aftershock-test"

    @field_validator("test_user_prefix")
    @classmethod
    def _safe_prefix(cls, value: str) -> str:
        if len(value) < 4 or not value.replace("-", "").isalnum():
            raise ValueError(f"test_user_prefix {value!r} must be 4+ letters, digits or '-' (it bounds what the "
                             "harness deletes)")
        return value

    def pool(self, region: str) -> IdentityPool | None:
        return next((p for p in self.pools if p.region == region), None)

    @property
    def migration_text(self) -> str:
        """What an imported user has to do, for the report."""
        return MIGRATION_TEXTS[self.migration]


MIGRATION_TEXTS = {
    "reset": "reset: passwords do not travel; an imported user resets the password before signing in",
    "migration-trigger": "migration-trigger: the standby pool's user-migration trigger signs the user in with the "
                         "old password",
}
"""What an imported user has to do at the standby, per migration path (the report prints it)."""


__all__ = ["MIGRATION_TEXTS", "Identity", "IdentityPool"]
