"""The AWS target's lock: a lease the whole team sees, one DynamoDB item per target.

The item (key ``lock_id`` = ``target/<name>``, in ``aws.lock_table`` of the target's primary region) holds the
run id, host, pid, start time, an expiry and a token. Every write is conditional: a run takes the lease only when
there is none or it has expired (``--force-unlock`` takes it anyway), renews it every third of
``aws.lock_ttl_s`` while it holds it (only if the token is still its own) and deletes it on exit (same condition).
A holder that died stops renewing, so its lease expires and the next run takes it over.

Example::

    lease = DynamoLease(target)
    held = lease.acquire(Holder.here(run_id))
    try:
        ...
    finally:
        held.release()
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from aftershock.core.errors import TargetError, UsageError
from aftershock.core.runlock import HeldLock, Holder, Warn, inherited, locked_error
from aftershock.core.target import Target
from aftershock.faults.aws.guardrails import Guardrails
from aftershock.faults.aws.session import AwsSessions, SessionFactory

log = logging.getLogger("aftershock.lease")

CONDITION_FAILED = "ConditionalCheckFailedException"


class _HeldLease:
    """The lease this process holds, renewed by a daemon thread until :meth:`release`."""

    def __init__(self, lease: DynamoLease, token: str, warn: Warn | None) -> None:
        self._lease = lease
        self._token = token
        self._warn = warn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="aftershock-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self._lease.ttl_s / 3):
            try:
                self._lease.renew(self._token)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == CONDITION_FAILED:
                    message = f"the lease of target {self._lease.target.name!r} was taken by another run"
                    if self._warn is not None:
                        self._warn(message)
                    log.warning(message)
                    return
                log.warning("renewing the lease of target %r failed (retrying): %s", self._lease.target.name, exc)
            except Exception as exc:  # a renewal thread must not die silently: say why and retry
                log.warning("renewing the lease of target %r failed (retrying): %s", self._lease.target.name, exc)

    def release(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._lease.delete(self._token)


class DynamoLease:
    """The lease of one AWS target (:class:`~aftershock.core.runlock.RunLock`)."""

    def __init__(self, target: Target, *, session_factory: SessionFactory | None = None) -> None:
        if target.aws is None:
            raise TargetError(f"target {target.name!r} has no aws section: add aws.allowed_account_ids",
                              target=target.name)
        self.target = target
        self.table = target.aws.lock_table
        self.ttl_s = target.aws.lock_ttl_s
        self.region = target.primary.name
        self.key = {"lock_id": {"S": f"target/{target.name}"}}
        sessions = AwsSessions(target.aws) if session_factory is None else \
            AwsSessions(target.aws, session_factory=session_factory)
        self._guardrails = Guardrails(target, sessions)
        self._client = sessions.client("dynamodb", self.region)

    def __repr__(self) -> str:
        return f"DynamoLease(table={self.table!r}, region={self.region!r}, key={self.key['lock_id']['S']!r})"

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, method)(TableName=self.table, Key=self.key, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise UsageError(
                    f"the lock table {self.table!r} does not exist in {self.region}: create it once (partition key "
                    f"lock_id, type string: `aws dynamodb create-table --table-name {self.table} "
                    "--attribute-definitions AttributeName=lock_id,AttributeType=S --key-schema "
                    f"AttributeName=lock_id,KeyType=HASH --billing-mode PAY_PER_REQUEST --region {self.region}`) "
                    "or name another in aws.lock_table", target=self.target.name) from exc
            raise

    def _item(self) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._call("get_item", ConsistentRead=True).get("Item")
        return item

    def holder(self) -> Holder | None:
        item = self._item()
        if item is None or float(item["expires_at"]["N"]) < time.time():
            return None
        return _holder(item)

    def acquire(self, holder: Holder, *, force: bool = False, warn: Warn | None = None) -> HeldLock:
        self._guardrails.ensure(self.region)
        item = self._item()
        now = time.time()
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(lock_id)"}
        if item is not None:
            current = _holder(item)
            nested = inherited(current, holder)
            if nested is not None:
                return nested
            expired = float(item["expires_at"]["N"]) < now
            if not expired and not force:
                raise locked_error(self.target.name, current)
            if warn is not None:
                why = "forced (--force-unlock)" if force else "its lease expired"
                warn(f"taking over the lock of target {self.target.name!r} from {current.describe()}: {why}")
            condition = {"ConditionExpression": "#token = :seen",
                         "ExpressionAttributeNames": {"#token": "token"},
                         "ExpressionAttributeValues": {":seen": item["token"]}}
        token = uuid.uuid4().hex
        fields = {"lock_id": self.key["lock_id"], "run_id": {"S": holder.run_id}, "host": {"S": holder.host},
                  "pid": {"N": str(holder.pid)}, "started_at": {"N": repr(holder.started_at)},
                  "expires_at": {"N": repr(now + self.ttl_s)}, "token": {"S": token}}
        try:
            self._client.put_item(TableName=self.table, Item=fields, **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != CONDITION_FAILED:
                raise
            winner = self._item()  # another run took it between our read and our write
            raise locked_error(self.target.name, _holder(winner) if winner else holder) from None
        return _HeldLease(self, token, warn)

    def renew(self, token: str) -> None:
        """Push the expiry ``ttl_s`` ahead, if the lease is still ``token``'s."""
        self._call("update_item", UpdateExpression="SET expires_at = :expiry",
                   ConditionExpression="#token = :mine", ExpressionAttributeNames={"#token": "token"},
                   ExpressionAttributeValues={":expiry": {"N": repr(time.time() + self.ttl_s)},
                                              ":mine": {"S": token}})

    def delete(self, token: str) -> None:
        """Remove the lease if it is still ``token``'s (a forced take-over is left alone)."""
        try:
            self._call("delete_item", ConditionExpression="#token = :mine",
                       ExpressionAttributeNames={"#token": "token"}, ExpressionAttributeValues={":mine": {"S": token}})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != CONDITION_FAILED:
                raise


def _holder(item: dict[str, Any]) -> Holder:
    return Holder(run_id=item["run_id"]["S"], host=item["host"]["S"], pid=int(item["pid"]["N"]),
                  started_at=float(item["started_at"]["N"]))
