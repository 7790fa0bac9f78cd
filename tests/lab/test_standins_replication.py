"""The AWS stand-ins with real processes: two moto-based region servers and the replicator between them, measured
by the store ledgers and checked against direct reads of the surviving region (boto3)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aftershock.core.errors import FaultRefused
from aftershock.core.target import DataStores, EndpointGroup, FrontDoor, LabControl, Region, Target
from aftershock.lab.standins.scope import authorization
from aftershock.probes.ledger.record import Outcome, read_ledger
from aftershock.probes.ledger.store_readback import read_back_store
from aftershock.probes.ledger.store_writer import StoreLedgerWriter, ledger_file
from aftershock.probes.ledger.stores import StoreAccess, client_factory

EAST, WEST = "us-east-1", "us-west-2"
LAG_S = 0.01


class StandInsProcess:
    """``python -m aftershock.lab.standins`` as the lab supervisor runs them: servers and replicator in a process
    apart from the writers (the ledger's threads would otherwise slow the replicator down)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.proc = subprocess.Popen([sys.executable, "-m", "aftershock.lab.standins", "--log-dir", str(log_dir),
                                      "--dynamodb-lag", str(LAG_S), "--s3-lag", str(LAG_S)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.info = json.loads(self.proc.stdout.readline())
        self.endpoints: dict[str, str] = self.info["endpoints"]

    def command(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        reply: dict[str, Any] = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise FaultRefused(reply["error"])
        return reply

    def description(self) -> DataStores:
        return DataStores(table=self.info["table"], buckets=self.info["buckets"], endpoints=self.endpoints)

    def events(self) -> list[str]:
        return [json.loads(line)["kind"] for line in (self.log_dir / "events.jsonl").read_text().splitlines()]

    def stop(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=20)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInsProcess]:
    running = StandInsProcess(tmp_path_factory.mktemp("aws"))
    try:
        yield running
    finally:
        running.stop()
    assert running.proc.returncode == 0


def _target(standins: StandInsProcess) -> Target:
    return Target(name="lab", kind="lab", regions=(Region(name=EAST, role="primary", azs=("us-east-1a",)),
                                                   Region(name=WEST, role="secondary", azs=("us-west-2a",))),
                  front_door=FrontDoor(url="http://127.0.0.1:9", endpoint_groups=(
                      EndpointGroup(region=EAST, traffic_dial=100, load_balancer="alb"),)),
                  data_stores=standins.description(), lab=LabControl(control_url="http://127.0.0.1:9", home="/nowhere"))


def _client(standins: StandInsProcess, service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=standins.endpoints[region],
                        aws_access_key_id="k", aws_secret_access_key="s",
                        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}))


def _direct_keys(standins: StandInsProcess, store: str, region: str, run_id: str) -> set[int]:
    """What the region holds, read independently of the ledger (a full scan / listing)."""
    if store == "dynamodb":
        items = _client(standins, "dynamodb", region).scan(TableName="shop-carts", ConsistentRead=True)["Items"]
        prefix = f"aftershock-ledger#{run_id}#"
        return {int(i["pk"]["S"].rsplit("#", 1)[1]) for i in items if i["pk"]["S"].startswith(prefix)}
    listed = _client(standins, "s3", region).list_objects_v2(Bucket=f"shop-assets-{region}",
                                                             Prefix=f"aftershock-ledger/{run_id}/")
    return {int(o["Key"].rsplit("/", 1)[1]) for o in listed.get("Contents", [])}


def _writers(standins: StandInsProcess, run_dir: Path, run_id: str, *,
             watch: bool = True) -> dict[str, StoreLedgerWriter]:
    target = _target(standins)
    return {store: StoreLedgerWriter(StoreAccess(target, store, client_factory(target)), run_dir, run_id=run_id,
                                     primary=EAST, replica=WEST if watch else None, rate_per_s=50.0, watch_s=0.05,
                                     drain_s=2.0)
            for store in ("dynamodb", "s3")}


def test_no_pause_loses_nothing_and_measures_the_lag(standins: Any, tmp_path: Path) -> None:
    running = standins
    writers = _writers(running, tmp_path, "steady")
    for writer in writers.values():
        writer.start()
    time.sleep(1.5)
    for writer in writers.values():
        writer.stop()
    for store, writer in writers.items():
        result = read_back_store(writer.access, tmp_path, "steady", region=WEST, settle_s=0.5)
        acked = {r.seq for r in read_ledger(tmp_path / ledger_file(store), "steady").records if r.outcome is Outcome.OK}
        assert result.lost == 0 and result.acknowledged == len(acked) >= 15, result
        assert acked <= _direct_keys(running, store, WEST, "steady")
        # every entry was seen on the replica side, no sooner than the configured lag (ack is after the write stamp)
        assert result.lag_samples == len(acked)
        assert result.lag_p50_s is not None and LAG_S - 0.005 <= result.lag_p50_s <= LAG_S + 0.25, result


def test_pause_then_region_loss_loses_exactly_what_the_survivor_misses(standins: Any, tmp_path: Path) -> None:
    running = standins
    writers = _writers(running, tmp_path, "lossy", watch=False)  # the RPO needs dense writes: no watch load
    for writer in writers.values():
        writer.start()
    time.sleep(0.6)
    paused_at = {store: _pause_caught_up(running, store, name)
                 for store, name in (("dynamodb", "shop-carts"), ("s3", "shop-assets-us-east-1"))}
    time.sleep(2.0)
    lost = running.command("lose", region=EAST)  # down_at: from then on the region answers 503
    time.sleep(0.3)
    for writer in writers.values():
        writer.stop()
    try:
        for store, writer in writers.items():
            result = read_back_store(writer.access, tmp_path, "lossy", region=WEST, settle_s=0.5)
            records = read_ledger(tmp_path / ledger_file(store), "lossy").records
            acked = {r.seq for r in records if r.outcome is Outcome.OK}
            missing = acked - _direct_keys(running, store, WEST, "lossy")
            assert result.lost == len(missing) > 15, result  # ~2 s of writes at up to 50/s
            assert list(result.lost_seqs) == sorted(missing)[:50]
            key = "dynamodb:shop-carts" if store == "dynamodb" else "s3:shop-assets-us-east-1"
            assert lost["dropped"][key] >= result.lost  # what the replicator dropped (in-doubt writes too)
            # the pause window from the fault markers: the pause instant to the region loss
            window = lost["down_at"] - paused_at[store]
            print(f"{store}: rpo {result.rpo_s:.3f} s, pause window {window:.3f} s, "
                  f"error {result.rpo_s - window:+.3f} s")
            assert abs(result.rpo_s - window) <= 0.05, (result.rpo_s, window)
            assert writer.access.cleanup(WEST, "lossy", range(1, writer.attempted + 1)) >= result.kept
            assert _direct_keys(running, store, WEST, "lossy") == set()
    finally:
        running.command("restore", region=EAST)
        for store, name in (("dynamodb", "shop-carts"), ("s3", "shop-assets-us-east-1")):
            running.command("resume", store=store, name=name)
        # the cleanup's deletes in the west drain into the restored east before the next test
        assert _wait_for(lambda: not any(link["backlog"] for link in running.command("status")["replication"]["links"]))
    assert [k for k in running.events() if k.startswith("replication.region")] == ["replication.region_lost",
                                                                                    "replication.region_restored"]


def _pause_caught_up(running: StandInsProcess, store: str, name: str) -> float:
    """Pause once replication is caught up (nothing unshipped older than the lag, plus 10 ms for the replicator's
    pull) so that a region loss loses the writes from the pause on; returns the pause instant. A pause that found a
    backlog (the machine stalled the replicator) is resumed and tried again."""
    for _ in range(20):
        details = running.command("pause", store=store, name=name)["details"]
        if details["paused_at"] - details["unshipped_since"] <= LAG_S + 0.01:
            return float(details["paused_at"])
        running.command("resume", store=store, name=name)
        time.sleep(0.05)
    pytest.fail(f"replication of {store} {name} never caught up with the ledger's writes")


def _wait_for(check: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_last_writer_wins_once_a_partition_heals(standins: StandInsProcess) -> None:
    running = standins
    tables = {r: _client(running, "dynamodb", r) for r in (EAST, WEST)}
    running.command("pause", store="dynamodb", name="shop-carts")
    try:
        # each item is written in both regions while they cannot replicate; the later write must win everywhere
        for item, order in (("cart#lww-1", (WEST, EAST)), ("cart#lww-2", (EAST, WEST))):
            for region in order:
                tables[region].put_item(TableName="shop-carts", Item={"pk": {"S": item}, "by": {"S": region}})
                time.sleep(0.02)
        assert tables[EAST].get_item(TableName="shop-carts", Key={"pk": {"S": "cart#lww-1"}})["Item"]["by"]["S"] == EAST
        assert tables[WEST].get_item(TableName="shop-carts", Key={"pk": {"S": "cart#lww-1"}})["Item"]["by"]["S"] == WEST
    finally:
        backlog = running.command("resume", store="dynamodb", name="shop-carts")["details"]["backlog"]
    assert backlog == 4  # two writes each way waited for the partition to heal

    def settled() -> bool:
        seen = {(item, r): tables[r].get_item(TableName="shop-carts", Key={"pk": {"S": item}}, ConsistentRead=True)
                ["Item"]["by"]["S"] for item in ("cart#lww-1", "cart#lww-2") for r in (EAST, WEST)}
        return seen == {("cart#lww-1", EAST): EAST, ("cart#lww-1", WEST): EAST,
                        ("cart#lww-2", EAST): WEST, ("cart#lww-2", WEST): WEST}

    assert _wait_for(settled)
    superseded = sum(link["superseded"] for link in running.command("status")["replication"]["links"])
    assert superseded >= 2  # the older write of each item arrived after the newer one and was dropped


def test_s3_replicates_objects_and_delete_markers_but_not_version_deletes(standins: StandInsProcess) -> None:
    running = standins
    east, west = _client(running, "s3", EAST), _client(running, "s3", WEST)
    src, dst = "shop-assets-us-east-1", "shop-assets-us-west-2"
    first = east.put_object(Bucket=src, Key="img/logo.png", Body=b"v1", ContentType="image/png")["VersionId"]
    east.put_object(Bucket=src, Key="img/logo.png", Body=b"v2", ContentType="image/png")

    def body_in_west() -> bytes | None:
        try:
            return bytes(west.get_object(Bucket=dst, Key="img/logo.png")["Body"].read())
        except west.exceptions.NoSuchKey:
            return None

    assert _wait_for(lambda: body_in_west() == b"v2")
    assert west.head_object(Bucket=dst, Key="img/logo.png")["ContentType"] == "image/png"
    east.delete_object(Bucket=src, Key="img/logo.png", VersionId=first)  # a version delete stays in the source
    east.delete_object(Bucket=src, Key="img/logo.png")  # a delete marker, replicated per the configuration
    assert _wait_for(lambda: body_in_west() is None)
    versions = west.list_object_versions(Bucket=dst, Prefix="img/logo.png")
    assert len(versions.get("DeleteMarkers", [])) == 1
    assert len(versions.get("Versions", [])) == 2  # both replicated versions: the version delete did not travel
    # replication is one-way, as configured: a write in the secondary's bucket stays there
    west.put_object(Bucket=dst, Key="img/west-only.png", Body=b"w")
    time.sleep(0.3)
    assert "Contents" not in east.list_objects_v2(Bucket=src, Prefix="img/west-only.png")


def test_replication_faults_refuse_bad_input_and_double_pauses(standins: StandInsProcess) -> None:
    running = standins
    with pytest.raises(FaultRefused, match=r"unknown store 'redis': use 'dynamodb' \(a global table\) or 's3'"):
        running.command("pause", store="redis", name="x")
    with pytest.raises(FaultRefused, match="dynamodb 'orders' is not replicated in the lab: use shop-carts"):
        running.command("pause", store="dynamodb", name="orders")
    with pytest.raises(FaultRefused, match="replication of s3 shop-assets-us-east-1 is not paused: nothing to resume"):
        running.command("resume", store="s3", name="shop-assets-us-east-1")
    running.command("pause", store="s3", name="shop-assets-us-east-1")
    try:
        with pytest.raises(FaultRefused, match="replication of s3 shop-assets-us-east-1 is already paused"):
            running.command("pause", store="s3", name="shop-assets-us-east-1")
    finally:
        running.command("resume", store="s3", name="shop-assets-us-east-1")
    assert running.command("status")["replication"]["paused"] == []


def test_a_connection_serves_many_calls_and_a_chunked_body_closes_it(standins: StandInsProcess) -> None:
    """Keep-alive (lab/standins/keepalive.py): calls on one connection are each answered and the socket is kept;
    a body the server could not read whole first (chunked) closes the connection after its answer."""
    host, port = standins.endpoints[EAST].removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0",
               "Authorization": authorization(EAST, "dynamodb")}
    body = json.dumps({"TableName": "shop-carts", "Key": {"pk": {"S": "cart#nobody"}}}).encode()
    try:
        local_ports = set()
        for _ in range(3):
            conn.request("POST", "/", body, headers)
            response = conn.getresponse()
            assert (response.status, json.loads(response.read()), response.getheader("Connection")) == (200, {}, None)
            assert conn.sock is not None
            local_ports.add(conn.sock.getsockname()[1])
        assert len(local_ports) == 1  # one TCP connection for the three calls
        conn.request("POST", "/", iter([body]), headers, encode_chunked=True)
        response = conn.getresponse()
        assert (response.status, json.loads(response.read()), response.getheader("Connection")) == (200, {}, "close")
        assert conn.sock is None  # the client closed its side as told
    finally:
        conn.close()
