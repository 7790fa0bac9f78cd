"""The seed's identity replication: export users and groups from the primary pool to a global table, import them
from the standby's replica of that table into the standby pool (Cognito has no cross-region replication).

Each period (``export_period_s``)::

    export  ListUsers + groups in the primary pool (the snapshot starts at ``snapshot_at``) -> one item per new or
            changed user in the primary's table, then the marker item ``export#latest`` {snapshot_at, users}
    import  the standby's table (filled by global-table replication, in write order) -> AdminCreateUser (no
            message, no password: passwords do not travel) + groups in the standby pool, for users not there yet

The import runs in the standby region: after the primary is lost it still imports what had reached the standby's
table. Events: ``identity.exported`` / ``identity.imported`` (with ``snapshot_at``), ``identity.export_failed`` /
``identity.import_failed``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from aftershock.lab.events import Emit
from aftershock.lab.identity.settings import EXPORT_MARKER, IdentitySettings
from aftershock.lab.identity.wire import CognitoError, CognitoWire
from aftershock.lab.standins.wire import Wire

_USER_KEY = "user#"


class PoolEnd:
    """One region's end of the replication: its pool (cognito-idp) and its replica of the table (DynamoDB)."""

    def __init__(self, endpoint: str, region: str, pool_id: str) -> None:
        self.region = region
        self.pool_id = pool_id
        self.cognito = CognitoWire(endpoint, region)
        self.dynamodb = Wire(endpoint, region)

    def close(self) -> None:
        self.cognito.close()
        self.dynamodb.close()


class IdentityReplication:
    """Exports ``primary``'s pool and imports into ``standby``'s, every ``settings.export_period_s``."""

    def __init__(self, primary: PoolEnd, standby: PoolEnd, settings: IdentitySettings, emit: Emit) -> None:
        self.primary, self.standby = primary, standby
        self.settings = settings
        self._emit = emit
        self._exported: dict[str, str] = {}  # username -> the exported image (only changes are written again)
        self._imported: set[str] = set()
        self._groups: set[str] = set()
        self.last_export: dict[str, Any] | None = None
        self.last_import: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="identity-replication", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.export_period_s):
            self.cycle()

    def cycle(self) -> None:
        """One export then one import; a failure of either is an event, never fatal."""
        for step, failed in ((self.export, "identity.export_failed"), (self.import_, "identity.import_failed")):
            try:
                step()
            except Exception as exc:  # a lost region answers 503: the other half goes on
                self._emit(failed, error=str(exc)[:300])

    # -- export (primary region) -------------------------------------------------------------------------
    def export(self) -> None:
        snapshot_at = time.time()
        users = self.primary.cognito.pages("ListUsers", {"UserPoolId": self.primary.pool_id}, "Users")
        groups = _groups_of_users(self.primary)
        written = 0
        for user in users:
            name = str(user["Username"])
            image = json.dumps({"attributes": [a for a in user.get("Attributes") or [] if a["Name"] != "sub"],
                                "enabled": user.get("Enabled", True), "groups": sorted(groups.get(name, ()))},
                               sort_keys=True)
            if self._exported.get(name) == image:
                continue
            self.primary.dynamodb.dynamodb("PutItem", {"TableName": self.settings.table, "Item": {
                "pk": {"S": _USER_KEY + name}, "image": {"S": image}, "exported_at": {"N": repr(snapshot_at)}}})
            self._exported[name] = image
            written += 1
        self.primary.dynamodb.dynamodb("PutItem", {"TableName": self.settings.table, "Item": {
            "pk": {"S": EXPORT_MARKER}, "snapshot_at": {"N": repr(snapshot_at)}, "users": {"N": str(len(users))},
            "completed_at": {"N": repr(time.time())}}})
        self.last_export = {"snapshot_at": snapshot_at, "users": len(users), "written": written,
                            "completed_at": time.time()}
        self._emit("identity.exported", region=self.primary.region, **self.last_export)

    # -- import (standby region) -------------------------------------------------------------------------
    def import_(self) -> None:
        marker = self.standby.dynamodb.dynamodb("GetItem", {"TableName": self.settings.table, "ConsistentRead": True,
                                                            "Key": {"pk": {"S": EXPORT_MARKER}}}).get("Item")
        if marker is None:
            return  # nothing exported (or replicated) yet
        items = _scan(self.standby.dynamodb, self.settings.table)
        created = 0
        for item in items:
            key = item["pk"]["S"]
            if not key.startswith(_USER_KEY) or key[len(_USER_KEY):] in self._imported:
                continue
            if self._create(key[len(_USER_KEY):], json.loads(item["image"]["S"])):
                created += 1
        self.last_import = {"snapshot_at": float(marker["snapshot_at"]["N"]), "users": len(self._imported),
                            "created": created, "completed_at": time.time()}
        self._emit("identity.imported", region=self.standby.region, **self.last_import)

    def _create(self, name: str, image: dict[str, Any]) -> bool:
        """Create ``name`` in the standby pool without a password (the ``reset`` path): True when created."""
        pool, cognito = self.standby.pool_id, self.standby.cognito
        try:
            cognito.call("AdminCreateUser", {"UserPoolId": pool, "Username": name, "MessageAction": "SUPPRESS",
                                             "UserAttributes": image.get("attributes") or []})
        except CognitoError as exc:
            if exc.code != "UsernameExistsException":
                raise
            self._imported.add(name)
            return False
        for group in image.get("groups") or []:
            if group not in self._groups:
                try:
                    cognito.call("CreateGroup", {"UserPoolId": pool, "GroupName": group})
                except CognitoError as exc:
                    if exc.code != "GroupExistsException":
                        raise
                self._groups.add(group)
            cognito.call("AdminAddUserToGroup", {"UserPoolId": pool, "GroupName": group, "Username": name})
        self._imported.add(name)
        return True


def _groups_of_users(end: PoolEnd) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    for group in end.cognito.pages("ListGroups", {"UserPoolId": end.pool_id}, "Groups"):
        name = str(group["GroupName"])
        for user in end.cognito.pages("ListUsersInGroup", {"UserPoolId": end.pool_id, "GroupName": name}, "Users"):
            members.setdefault(str(user["Username"]), set()).add(name)
    return members


def _scan(wire: Wire, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        page = wire.dynamodb("Scan", {"TableName": table, "ConsistentRead": True,
                                      **({"ExclusiveStartKey": start} if start else {})})
        items.extend(page.get("Items") or [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
