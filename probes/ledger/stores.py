"""The data stores a store ledger writes to: numbered items in a DynamoDB global table, numbered objects in an S3
bucket, in any region of the target, through boto3 (the lab's stand-in endpoints or AWS).

:class:`StoreAccess` is one store of one target: ``put`` writes ledger entry ``seq`` in a region and classifies
the outcome as the RPO ledger does (:class:`~aftershock.probes.ledger.record.Outcome`); ``present`` reads which
entries a region holds; ``cleanup`` deletes every entry of a run. boto3 retries nothing here: one attempt is one
ledger record. Keys: ``<prefix>#<run_id>#<seq:06d>`` (item hash key) and ``<prefix>/<run_id>/<seq:06d>`` (object key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from aftershock.core.errors import HarnessError
from aftershock.core.target import Target
from aftershock.probes.ledger.record import Outcome

__all__ = ["STORES", "StoreAccess", "StoreError", "client_factory"]

STORES = ("dynamodb", "s3")
Clients = Callable[[str, str], Any]  # (service, region) -> boto3 client
_LAB_KEY = "aftershock-lab"  # the lab's stand-ins accept any key: not a secret


class StoreError(HarnessError):
    """A store ledger cannot run against this target (``store`` names the store)."""

    def __init__(self, message: str, *, store: str | None = None) -> None:
        super().__init__(message)
        self.store = store


def client_factory(target: Target, *, io_timeout_s: float = 2.0) -> Clients:
    """boto3 clients for the target's regions: the lab's endpoints with its fixed key, or the default credentials
    (profile / role of the ``aws`` section) on AWS. No retries: one call is one attempt."""
    stores = target.data_stores
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=io_timeout_s,
                    s3={"addressing_style": "path"})
    if stores is not None and stores.endpoints:
        session = boto3.session.Session(aws_access_key_id=_LAB_KEY, aws_secret_access_key=_LAB_KEY)
        return lambda service, region: session.client(service, region_name=region, config=config,
                                                      endpoint_url=stores.endpoints[region])
    profile = target.aws.profile if target.aws is not None else None
    aws_session = boto3.session.Session(profile_name=profile)
    return lambda service, region: aws_session.client(service, region_name=region, config=config)


class StoreAccess:
    """Ledger entries of ``store`` (``dynamodb`` or ``s3``) in ``target``'s table or buckets."""

    def __init__(self, target: Target, store: str, clients: Clients) -> None:
        stores = target.data_stores
        if store not in STORES:
            raise StoreError(f"unknown store {store!r}: use one of {', '.join(STORES)}", store=store)
        if stores is None or (store == "dynamodb" and not stores.table) or (store == "s3" and not stores.buckets):
            what = "data_stores.table" if store == "dynamodb" else "data_stores.buckets (one per region)"
            raise StoreError(f"target {target.name!r} names no {store} store: add {what} to the target file",
                             store=store)
        self.store = store
        self.target = target
        self.prefix = stores.ledger_prefix
        self.table = stores.table or ""
        self.buckets = dict(stores.buckets)
        self._clients = clients
        self._cache: dict[tuple[str, str], Any] = {}
        self._hash_key: str | None = None

    def client(self, region: str) -> Any:
        key = (self.store, region)
        if key not in self._cache:
            self._cache[key] = self._clients(self.store, region)
        return self._cache[key]

    def name(self, region: str) -> str:
        """The table (same in every region) or the region's bucket."""
        if self.store == "dynamodb":
            return self.table
        if region not in self.buckets:
            raise StoreError(f"data_stores.buckets has no bucket for region {region}: add one", store=self.store)
        return self.buckets[region]

    def key(self, run_id: str, seq: int) -> str:
        return f"{self.prefix}#{run_id}#{seq:06d}" if self.store == "dynamodb" else f"{self.prefix}/{run_id}/{seq:06d}"

    def hash_key(self, region: str) -> str:
        """The table's hash key attribute (asked once); the ledger supports tables keyed by one string."""
        if self._hash_key is None:
            table = self.client(region).describe_table(TableName=self.table)["Table"]
            schema = table["KeySchema"]
            if len(schema) != 1:
                raise StoreError(f"table {self.table} has a composite key: the store ledger needs a table keyed by "
                                 "one string attribute (or give it a dedicated table)", store=self.store)
            self._hash_key = str(schema[0]["AttributeName"])
        return self._hash_key

    def put(self, region: str, run_id: str, seq: int) -> tuple[Outcome, str | None, str | None]:
        """Write entry ``seq``; ``(outcome, error kind, detail)`` and never raises for an API failure."""
        try:
            if self.store == "dynamodb":
                self.client(region).put_item(TableName=self.table, Item={
                    self.hash_key(region): {"S": self.key(run_id, seq)}, "ledger_run": {"S": run_id},
                    "seq": {"N": str(seq)}})
            else:
                self.client(region).put_object(Bucket=self.name(region), Key=self.key(run_id, seq),
                                               Body=f"{run_id} #{seq}".encode())
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            return Outcome.FAILED, "connect_failed", str(exc)[:200]
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            return Outcome.IN_DOUBT, "io_timeout", str(exc)[:200]
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            code = str(exc.response.get("Error", {}).get("Code", "?"))
            # a 5xx may have been applied (AWS says so for DynamoDB): in doubt; a 4xx was refused
            return (Outcome.IN_DOUBT if status >= 500 else Outcome.REJECTED), f"http:{status}:{code}", str(exc)[:200]
        except BotoCoreError as exc:
            return Outcome.IN_DOUBT, f"error:{type(exc).__name__}", str(exc)[:200]
        return Outcome.OK, None, None

    def present(self, region: str, run_id: str, seqs: Iterable[int]) -> set[int]:
        """Which of ``seqs`` the region holds now (strongly consistent reads)."""
        wanted = sorted(set(seqs))
        if not wanted:
            return set()
        if self.store == "s3":
            return self._listed(region, run_id, start_after=wanted[0] - 1) & set(wanted)
        hash_key, found = self.hash_key(region), set()
        for i in range(0, len(wanted), 100):
            keys: list[dict[str, Any]] = [{hash_key: {"S": self.key(run_id, s)}} for s in wanted[i:i + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True,
                                                    "ProjectionExpression": "#k", "ExpressionAttributeNames":
                                                    {"#k": hash_key}}}
            while request:
                reply = self.client(region).batch_get_item(RequestItems=request)
                for item in reply.get("Responses", {}).get(self.table, []):
                    found.add(int(item[hash_key]["S"].rsplit("#", 1)[1]))
                request = reply.get("UnprocessedKeys") or {}
        return found

    def _listed(self, region: str, run_id: str, *, start_after: int) -> set[int]:
        prefix = f"{self.prefix}/{run_id}/"
        paginator = self.client(region).get_paginator("list_objects_v2")
        found: set[int] = set()
        for page in paginator.paginate(Bucket=self.name(region), Prefix=prefix,
                                       StartAfter=prefix + f"{max(start_after, 0):06d}"):
            found.update(int(o["Key"].rsplit("/", 1)[1]) for o in page.get("Contents", []))
        return found

    def cleanup(self, region: str, run_id: str, seqs: Iterable[int]) -> int:
        """Delete the run's entries in ``region`` (every object version on S3); returns how many were deleted."""
        if self.store == "dynamodb":
            hash_key, deleted = self.hash_key(region), 0
            wanted = sorted(set(seqs))
            for i in range(0, len(wanted), 25):
                deletes = [{"DeleteRequest": {"Key": {hash_key: {"S": self.key(run_id, s)}}}} for s in wanted[i:i + 25]]
                request: dict[str, Any] = {self.table: deletes}
                while request:
                    request = self.client(region).batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                deleted += len(wanted[i:i + 25])
            return deleted
        client, bucket, deleted = self.client(region), self.name(region), 0
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                          Prefix=f"{self.prefix}/{run_id}/"):
            versions = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for i in range(0, len(versions), 1000):
                client.delete_objects(Bucket=bucket, Delete={"Objects": versions[i:i + 1000], "Quiet": True})
                deleted += len(versions[i:i + 1000])
        return deleted
