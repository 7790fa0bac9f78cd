"""The lab's AWS API endpoints: one stand-in server per region, the stores the seeds use, and replication.

Owned by the :class:`~aftershock.lab.lab.Lab`: started in parallel with its other parts, stopped with it. The stores
are created as the seeds have them: the cart table as a DynamoDB global table in every region, the assets bucket
(versioned) per region with replication from the primary's bucket to the secondary's (delete markers replicated).

Faults (merged into the lab's handler table; each returns ``(did, details, revert)``)::

    faults/pause-data-replication   {"store": "dynamodb"|"s3", "name": table or source bucket}
    faults/resume-data-replication  {"store", "name"}
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aftershock.core.errors import FaultRefused, LabError
from aftershock.core.procs import spawn, stop, wait_until
from aftershock.core.target import DataStores
from aftershock.lab.events import Emit
from aftershock.lab.ports import free_ports, port_open
from aftershock.lab.standins.changes import DYNAMODB, S3
from aftershock.lab.standins.replicator import ReplicationSettings, Replicator
from aftershock.lab.standins.seed import seed_assets, write_shop_config
from aftershock.lab.standins.wire import Wire

Handler = Callable[[dict[str, Any]], tuple[str, dict[str, Any], dict[str, Any] | None]]
_START_TIMEOUT_S = 30.0


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    """The seeds' data stores in the lab: the cart global table and the replicated assets bucket."""

    table: str = "shop-carts"
    bucket_prefix: str = "shop-assets"
    product_images: int = 100  # products 1..N get an image in the primary's bucket (replicated); the rest 404
    replication: ReplicationSettings = field(default_factory=ReplicationSettings)

    def bucket(self, region: str) -> str:
        return f"{self.bucket_prefix}-{region}"


class StandIns:
    """The stand-in servers of ``regions`` (the first is the primary) and the replicator between them."""

    def __init__(self, regions: tuple[str, ...], log_dir: Path, settings: StoreSettings, emit: Emit) -> None:
        self.regions = regions
        self.settings = settings
        self._log_dir = log_dir
        self._emit = emit
        self.ports = dict(zip(regions, free_ports(len(regions)), strict=True))
        self._procs: dict[str, Any] = {}
        self.replicator = Replicator(self.endpoints, settings.replication, emit)
        self._started = False
        self._lock = threading.Lock()

    @property
    def endpoints(self) -> dict[str, str]:
        """The AWS endpoint URL of each region (``endpoint_url`` for boto3)."""
        return {r: f"http://127.0.0.1:{p}" for r, p in self.ports.items()}

    @property
    def shop_config_path(self) -> Path:
        """What the shop pods read their region's table and bucket from (``SHOP_STORES_FILE``), once started."""
        return self._log_dir / "stores.json"

    @property
    def buckets(self) -> dict[str, str]:
        return {r: self.settings.bucket(r) for r in self.regions}

    def start(self) -> None:
        """Start the servers, create the stores, start replication (a few seconds: moto's import)."""
        started = time.monotonic()
        self._log_dir.mkdir(parents=True, exist_ok=True)
        for region, port in self.ports.items():
            self._procs[region] = spawn(
                # niced: their start-up (moto's import) yields the CPU to the shop's critical path
                ["nice", "-n", "10", sys.executable, "-m", "aftershock.lab.standins.server", "--region", region,
                 "--port", str(port)],
                log_path=self._log_dir / f"aws-{region}.log")
        for region, port in self.ports.items():
            proc = self._procs[region]
            if not wait_until(partial(_up_or_dead, port, proc), timeout=_START_TIMEOUT_S) or proc.poll() is not None:
                raise LabError(f"the AWS stand-in server of {region} did not start: see "
                               f"{self._log_dir / f'aws-{region}.log'}")
        self._create_stores()
        seed_assets(Wire(self.endpoints[self.regions[0]], self.regions[0]), self.settings.bucket(self.regions[0]),
                    self.settings.product_images)
        self.replicator.start()  # ships the seeded assets to the other regions' buckets
        self._started = True
        write_shop_config(self.shop_config_path, self.endpoints, self.settings)
        self._emit("standins.ready", endpoints=self.endpoints, seconds=round(time.monotonic() - started, 3))

    def _create_stores(self) -> None:
        primary, table = self.regions[0], self.settings.table
        for region in self.regions:
            wire = Wire(self.endpoints[region], region)
            try:
                wire.dynamodb("CreateTable", {
                    "TableName": table, "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
                bucket = self.settings.bucket(region)
                wire.s3("PUT", f"/{bucket}", _location(region))
                wire.s3("PUT", f"/{bucket}", b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                        b"<Status>Enabled</Status></VersioningConfiguration>", query="versioning")
                if region == primary:
                    for dest in self.regions[1:]:
                        wire.s3("PUT", f"/{bucket}", _replication(self.settings.bucket(dest)), query="replication")
            finally:
                wire.close()

    def stop(self) -> None:
        if self._started:
            self.replicator.stop()
        for proc in self._procs.values():
            stop(proc)
        self._procs.clear()

    # -- faults ----------------------------------------------------------------------------------------
    def fault_handlers(self) -> dict[str, Handler]:
        return {"faults/pause-data-replication": self._pause, "faults/resume-data-replication": self._resume}

    def _store_arg(self, body: dict[str, Any]) -> tuple[str, str]:
        store, name = body.get("store"), body.get("name")
        known = {DYNAMODB: [self.settings.table], S3: [self.settings.bucket(self.regions[0])]}
        if store not in known:
            raise FaultRefused(f"unknown store {store!r}: use 'dynamodb' (a global table) or 's3' (a bucket)")
        name = name or known[store][0]
        if name not in known[store]:
            raise FaultRefused(f"{store} {name!r} is not replicated in the lab: use {', '.join(known[store])}")
        return str(store), str(name)

    def _pause(self, body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        store, name = self._store_arg(body)
        with self._lock:
            if self.replicator.paused(store, name):
                raise FaultRefused(f"replication of {store} {name} is already paused: resume it first "
                                   "(POST faults/resume-data-replication, or revert the run's faults)")
            paused_at, since = self.replicator.pause(store, name)
        return (f"paused replication of {store} {name}", {"store": store, "name": name, "paused_at": paused_at,
                                                          "unshipped_since": since},
                {"action": "faults/resume-data-replication", "args": {"store": store, "name": name}})

    def _resume(self, body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        store, name = self._store_arg(body)
        with self._lock:
            if not self.replicator.paused(store, name):
                raise FaultRefused(f"replication of {store} {name} is not paused: nothing to resume")
            backlog = self.replicator.resume(store, name)
        return (f"resumed replication of {store} {name} ({backlog} change(s) in the backlog)",
                {"store": store, "name": name, "backlog": backlog}, None)

    def lose_region(self, region: str) -> dict[str, Any]:
        """The region is lost: its endpoint answers 503 (from ``down_at``) and its unreplicated writes are gone
        (``dropped`` per store)."""
        self._control(region, {"down": True})
        down_at = time.time()
        return {"down_at": down_at, "dropped": self.replicator.lose_region(region)}

    def restore_region(self, region: str) -> None:
        self._control(region, {"down": False})
        self.replicator.restore_region(region)

    def _control(self, region: str, body: dict[str, Any]) -> None:
        import httpx

        httpx.post(f"{self.endpoints[region]}/_aftershock/down", json=body, timeout=5.0).raise_for_status()

    def description(self) -> DataStores:
        """The stores as the target description carries them (what ``--target lab`` reads)."""
        return DataStores(table=self.settings.table, buckets=self.buckets, endpoints=self.endpoints)

    def status(self) -> dict[str, Any]:
        return {"endpoints": self.endpoints, "table": self.settings.table, "buckets": self.buckets,
                "servers": {r: p.poll() is None for r, p in self._procs.items()},
                "replication": self.replicator.status() if self._started else None}


def _up_or_dead(port: int, proc: Any) -> bool:
    return port_open(port) or proc.poll() is not None


def _location(region: str) -> bytes:
    if region == "us-east-1":
        return b""
    return (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>'
            + region.encode() + b"</LocationConstraint></CreateBucketConfiguration>")


def _replication(dest_bucket: str) -> bytes:
    return ('<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Role>arn:aws:iam::123456789012:role/shop-assets-replication</Role><Rule><ID>assets</ID>"
            "<Priority>1</Priority><Status>Enabled</Status><Filter><Prefix></Prefix></Filter>"
            "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>"
            f"<Destination><Bucket>arn:aws:s3:::{dest_bucket}</Bucket></Destination></Rule>"
            "</ReplicationConfiguration>").encode()


def start_in_background(standins: StandIns) -> Callable[[], None]:
    """Start ``standins`` on a thread (alongside the lab's other parts); the returned call waits for it and
    raises what the start raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            standins.start()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name="standins-start")
    thread.start()

    def join() -> None:
        thread.join()
        if errors:
            raise LabError(f"the AWS stand-ins did not start: {errors[0]}") from errors[0]

    return join
