"""`aftershock recover` after a SIGKILLed run: the store ledgers' items and objects left behind are deleted in every
region (AWS through moto), counted from the ledger file, and a second recover finds nothing left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from click.testing import CliRunner

from aftershock.cli.run import recover_command
from aftershock.core.plan import write_plan
from aftershock.core.target import DataStores, dump_target
from aftershock.planning import resolve_plan
from aftershock.probes.ledger.record import LedgerRecord, Outcome, format_line
from aftershock.probes.ledger.store_writer import ledger_file
from aftershock.probes.ledger.stores import StoreAccess, client_factory

EAST, WEST = "us-east-1", "us-west-2"
TABLE, BUCKETS = "carts", {EAST: "assets-east", WEST: "assets-west"}


def _make_stores() -> None:
    for region in (EAST, WEST):
        boto3.client("dynamodb", region_name=region).create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        s3 = boto3.client("s3", region_name=region)
        s3.create_bucket(Bucket=BUCKETS[region], **({} if region == EAST else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_versioning(Bucket=BUCKETS[region], VersioningConfiguration={"Status": "Enabled"})


def _left_behind(region: str) -> tuple[list[str], list[str]]:
    items = boto3.client("dynamodb", region_name=region).scan(TableName=TABLE)["Items"]
    versions = boto3.client("s3", region_name=region).list_object_versions(Bucket=BUCKETS[region])
    return (sorted(i["pk"]["S"] for i in items),
            sorted(v["Key"] for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])))


def test_recover_deletes_what_a_killed_run_left_in_the_stores(stack: Any, tmp_path: Path) -> None:
    _make_stores()
    target = stack.target.model_copy(update={"data_stores": DataStores(table=TABLE, buckets=BUCKETS)})
    target_file = tmp_path / "aws-test.yaml"
    dump_target(target, target_file)
    run = stack.run
    write_plan(run, resolve_plan({}, experiment="az.yaml", target_ref=str(target_file)))
    run_id = run.path.name
    for store in ("dynamodb", "s3"):
        access = StoreAccess(target, store, client_factory(target))
        lines = []
        for seq in (1, 2, 3):  # recorded writes in the primary, replicated to the secondary
            assert access.put(EAST, run_id, seq)[0] is Outcome.OK
            assert access.put(WEST, run_id, seq)[0] is Outcome.OK
            lines.append(format_line(LedgerRecord(run_id, seq, 1.0, 1.1, Outcome.OK, None, None).to_json()))
        assert access.put(EAST, run_id, 4)[0] is Outcome.OK  # acknowledged, then SIGKILL before its line
        (run.path / ledger_file(store)).write_text("".join(lines), encoding="utf-8")
    boto3.client("dynamodb", region_name=EAST).put_item(TableName=TABLE, Item={"pk": {"S": "cart#someone"}})
    boto3.client("s3", region_name=EAST).put_object(Bucket=BUCKETS[EAST], Key="img/logo.png", Body=b"png")

    result = CliRunner().invoke(recover_command, [str(run.path)])

    assert result.exit_code == 0, result.output
    assert "cleaned up: dynamodb ledger: 4 item(s) deleted in us-east-1" in result.output
    assert "cleaned up: dynamodb ledger: 3 item(s) deleted in us-west-2" in result.output
    assert "cleaned up: s3 ledger: 4 object version(s) deleted in us-east-1" in result.output
    assert "cleaned up: s3 ledger: 3 object version(s) deleted in us-west-2" in result.output
    assert _left_behind(EAST) == (["cart#someone"], ["img/logo.png"])  # the shop's own data stays
    assert _left_behind(WEST) == ([], [])
    again = CliRunner().invoke(recover_command, [str(run.path)])
    assert again.exit_code == 0 and "dynamodb ledger: 0 item(s) deleted in us-east-1" in again.output, again.output
