"""The lab's identity part: a user pool per region on the AWS stand-ins, the seed's replication between them, and
the file the shop pods read their region's pool from.

Started after the stand-ins (the front door and the shop do not wait for it); stopped before them. Region loss is
the stand-ins' (``faults/global-failover`` makes the lost region's endpoint answer 503, its pool included); this
part adds no fault of its own. Pods read ``identity.json`` (``SHOP_IDENTITY_FILE``) on their first identity call::

    {"us-east-1": {"endpoint": "http://127.0.0.1:45123", "pool_id": "us-east-1_...", "client_id": "...",
                   "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_..."}, ...}
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from aftershock.core.identity import Identity, IdentityPool
from aftershock.lab.events import Emit
from aftershock.lab.identity.replication import IdentityReplication, PoolEnd
from aftershock.lab.identity.settings import EXPORT_MARKER, IdentitySettings
from aftershock.lab.identity.wire import CognitoWire
from aftershock.lab.standins.wire import Wire


def issuer(region: str, pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens (as Cognito's)."""
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


class LabIdentity:
    """User pools of ``endpoints``' regions (the first is the primary) and the replication to the second."""

    def __init__(self, settings: IdentitySettings, endpoints: dict[str, str], config_path: Path, emit: Emit) -> None:
        self.settings = settings
        self.endpoints = dict(endpoints)
        self.regions = tuple(endpoints)
        self.config_path = config_path
        self._emit = emit
        self.pools: dict[str, IdentityPool] = {}
        self.replication: IdentityReplication | None = None
        self._ends: list[PoolEnd] = []

    def start(self) -> None:
        """Create the pools, app clients and the replicated table; write the pods' file; start replicating."""
        started = time.monotonic()
        for region in self.regions:
            self.pools[region] = self._create_pool(region)
            self._create_table(region)
        self._write_config()
        if len(self.regions) > 1:
            self._ends = [PoolEnd(self.endpoints[r], r, self.pools[r].pool_id) for r in self.regions[:2]]
            self.replication = IdentityReplication(self._ends[0], self._ends[1], self.settings, self._emit)
            self.replication.start()
        self._emit("identity.ready", pools={r: p.pool_id for r, p in self.pools.items()},
                   export_period_s=self.settings.export_period_s, migration=self.settings.migration,
                   seconds=round(time.monotonic() - started, 3))

    def _create_pool(self, region: str) -> IdentityPool:
        wire = CognitoWire(self.endpoints[region], region)
        try:
            pool = wire.call("CreateUserPool", {"PoolName": f"{self.settings.pool_name}-{region}",
                                                "Policies": {"PasswordPolicy": {"MinimumLength": 8}}})
            pool_id = str(pool["UserPool"]["Id"])
            client = wire.call("CreateUserPoolClient", {
                "UserPoolId": pool_id, "ClientName": "shop",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})
            return IdentityPool(region=region, pool_id=pool_id, client_id=str(client["UserPoolClient"]["ClientId"]))
        finally:
            wire.close()

    def _create_table(self, region: str) -> None:
        wire = Wire(self.endpoints[region], region)
        try:
            wire.dynamodb("CreateTable", {
                "TableName": self.settings.table, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
        finally:
            wire.close()

    def _write_config(self) -> None:
        data = {r: {"endpoint": self.endpoints[r], "pool_id": p.pool_id, "client_id": p.client_id,
                    "issuer": issuer(r, p.pool_id)} for r, p in self.pools.items()}
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.config_path)  # pods never read half a file

    def stop(self) -> None:
        if self.replication is not None:
            self.replication.stop()
        for end in self._ends:
            end.close()

    def description(self) -> Identity | None:
        """The pools as the target description carries them (None: not started)."""
        if not self.pools:
            return None
        return Identity(pools=tuple(self.pools.values()), endpoints=self.endpoints, migration=self.settings.migration,
                        export_period_s=self.settings.export_period_s, table=self.settings.table,
                        export_marker=EXPORT_MARKER)

    def status(self) -> dict[str, Any]:
        replication = self.replication
        return {"pools": {r: p.pool_id for r, p in self.pools.items()}, "table": self.settings.table,
                "export_period_s": self.settings.export_period_s, "migration": self.settings.migration,
                "last_export": replication.last_export if replication else None,
                "last_import": replication.last_import if replication else None}


__all__ = ["LabIdentity", "issuer"]
