"""Chaos Toolkit actions on the data stores beyond Aurora: pause DynamoDB global-table and S3 replication.

On the lab the replicator pauses; on AWS the table's replicas deny the replication service role (what FIS's
``aws:dynamodb:global-table-pause-replication`` does) and the bucket's replication rules are disabled (as
``aws:s3:bucket-pause-replication``), or, where ``aws.fis_templates`` names a template, that FIS experiment runs
(stopped by the revert). Both are journaled and reverted exactly by ``revert_faults``; a region
loss (``failover_global_database`` on the lab) also stops that region's replication.

Usage in an experiment::

    - type: action
      name: pause-cart-replication
      provider: {type: python, module: aftershock.faults.data_actions, func: pause_table_replication}
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.faults.actions import Apply, Configuration, Secrets, _inject
from aftershock.faults.context import ActivityContext

__all__ = ["pause_bucket_replication", "pause_table_replication"]


def _checked(ctx: ActivityContext, store: str, name: str) -> str:
    stores = ctx.target.data_stores
    if store == "dynamodb":
        known = [stores.table] if stores is not None and stores.table else []
    else:
        known = sorted(set(stores.buckets.values())) if stores is not None else []
    if not known:
        field = "data_stores.table" if store == "dynamodb" else "data_stores.buckets"
        raise FaultRefused(f"target {ctx.target.name!r} names no {store} store: add {field} to the target file")
    if name and name not in known:
        raise FaultRefused(f"{store} {name!r} is not a store of target {ctx.target.name!r}: use {', '.join(known)}")
    return name


def pause_table_replication(table: str = "", configuration: Configuration = None,
                            secrets: Secrets = None) -> dict[str, Any]:
    """Pause replication of the DynamoDB global table ``table`` (default: the target's) between all regions."""

    def call(ctx: ActivityContext) -> Apply:
        name = _checked(ctx, "dynamodb", table)
        return lambda: ctx.driver.pause_data_replication("dynamodb", name)

    return _inject("pause_table_replication", configuration, call, table=table)


def pause_bucket_replication(bucket: str = "", configuration: Configuration = None,
                             secrets: Secrets = None) -> dict[str, Any]:
    """Pause replication from the S3 bucket ``bucket`` (default: the primary region's) to its destinations."""

    def call(ctx: ActivityContext) -> Apply:
        name = _checked(ctx, "s3", bucket)
        return lambda: ctx.driver.pause_data_replication("s3", name)

    return _inject("pause_bucket_replication", configuration, call, bucket=bucket)
