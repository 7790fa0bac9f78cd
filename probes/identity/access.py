"""The identity ledger's access to the target's user pools: guarded ``cognito-idp`` calls per region (boto3: the
lab's stand-ins or Cognito), the replicated table's export marker, and the classification of an answer.

Example::

    access = IdentityAccess(target)
    access.pool_calls("us-east-1").call("ListUsers", UserPoolId=access.pool_id("us-east-1"), Limit=1)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aftershock.core.identity import Identity
from aftershock.core.target import Target
from aftershock.faults.aws.cognito import CognitoCalls, identity_of

__all__ = ["IdentityAccess", "error_code"]

Clients = Callable[[str, str], Any]  # (service, region) -> boto3 client
_LAB_KEY = "aftershock-lab"  # the lab's stand-ins accept any key: not a secret


def _clients(target: Target, identity: Identity) -> Clients:
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=3)
    if identity.endpoints:
        session = boto3.session.Session(aws_access_key_id=_LAB_KEY, aws_secret_access_key=_LAB_KEY)
        return lambda service, region: session.client(service, region_name=region, config=config,
                                                      endpoint_url=identity.endpoints[region])
    profile = target.aws.profile if target.aws is not None else None
    aws_session = boto3.session.Session(profile_name=profile)
    return lambda service, region: aws_session.client(service, region_name=region, config=config)


def error_code(exc: BaseException) -> str:
    """``UserNotFoundException``, ``NotAuthorizedException``, ... or the transport error's type."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    return type(exc).__name__


class IdentityAccess:
    """The target's pools (one per region), through :class:`CognitoCalls` (pool and test-user guardrails)."""

    def __init__(self, target: Target, *, clients: Clients | None = None, dry_run: bool = False) -> None:
        self.target = target
        self.identity = identity_of(target)
        self.dry_run = dry_run
        self._clients = clients or _clients(target, self.identity)
        self._made: dict[tuple[str, str], Any] = {}  # (service, region) -> client, closed by close()
        self._calls: dict[str, CognitoCalls] = {}

    def client(self, service: str, region: str) -> Any:
        """One client per service and region (their connections are closed by :meth:`close`)."""
        if (service, region) not in self._made:
            self._made[(service, region)] = self._clients(service, region)
        return self._made[(service, region)]

    def close(self) -> None:
        for made in self._made.values():
            closing = getattr(made, "close", None)
            if closing is not None:
                closing()
        self._made.clear()
        self._calls.clear()

    def __enter__(self) -> IdentityAccess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def prefix(self) -> str:
        return self.identity.test_user_prefix

    def pool_calls(self, region: str) -> CognitoCalls:
        if region not in self._calls:
            self._calls[region] = CognitoCalls(self.target, region, self.client("cognito-idp", region),
                                               dry_run=self.dry_run)
        return self._calls[region]

    def pool_id(self, region: str) -> str:
        return self.pool_calls(region).pool.pool_id

    def client_id(self, region: str) -> str:
        return self.pool_calls(region).pool.client_id

    def planned(self) -> list[dict[str, Any]]:
        """Every call a dry run listed, in order, across regions."""
        return [{"operation": p.operation, "region": p.region, "params": p.params}
                for calls in self._calls.values() for p in calls.planned]

    def last_export_at(self, region: str) -> float | None:
        """The snapshot time of the last export the region's replica of the table holds (None: unknown)."""
        if not self.identity.table or not self.identity.export_marker:
            return None
        item = self.client("dynamodb", region).get_item(
            TableName=self.identity.table, Key={"pk": {"S": self.identity.export_marker}},
            ConsistentRead=True).get("Item")
        return float(item["snapshot_at"]["N"]) if item and "snapshot_at" in item else None
