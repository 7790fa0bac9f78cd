"""Pausing DynamoDB global-table and S3 replication on AWS (moto): exact restore, guardrails, dry run, and the
store ledger cleaning up after itself."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.journal import outstanding
from aftershock.core.target import DataStores
from aftershock.faults.aws.pods import KubeClients
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws_driver import AwsDriver
from aftershock.faults.reverts import record_injected, revert_outstanding
from aftershock.probes.ledger.record import Outcome
from aftershock.probes.ledger.stores import StoreAccess, client_factory

EAST, WEST = "us-east-1", "us-west-2"
TABLE, SRC, DST = "carts", "assets-east", "assets-west"
EXISTING_POLICY = {"Version": "2012-10-17", "Statement": [{"Sid": "AppReads", "Effect": "Allow", "Principal": {
    "AWS": "arn:aws:iam::123456789012:root"}, "Action": "dynamodb:GetItem",
    "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/carts"}]}


def _client(service: str, region: str) -> Any:
    """A client of its own (boto3 injects its S3 methods once per session: the stack's shared session cannot)."""
    return boto3.client(service, region_name=region)


def _driver(stack: Any, **kw: Any) -> AwsDriver:
    return AwsDriver(stack.target, run=stack.run, sessions=AwsSessions(stack.target.aws),
                     kube=KubeClients(str(stack.kubeconfig)), **kw)


@pytest.fixture
def stores(stack: Any) -> Any:
    for region in (EAST, WEST):
        ddb = _client("dynamodb", region)
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    arn = _client("dynamodb", EAST).describe_table(TableName=TABLE)["Table"]["TableArn"]
    _client("dynamodb", EAST).put_resource_policy(ResourceArn=arn, Policy=json.dumps(EXISTING_POLICY))
    for bucket, region in ((SRC, EAST), (DST, WEST)):
        s3 = _client("s3", region)
        s3.create_bucket(Bucket=bucket, **({} if region == EAST else {
            "CreateBucketConfiguration": {"LocationConstraint": region}}))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    _client("s3", EAST).put_bucket_replication(Bucket=SRC, ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replication", "Rules": [{
            "ID": "assets", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{DST}"}}]})
    stack.target = stack.target.model_copy(update={"data_stores": DataStores(table=TABLE,
                                                                              buckets={EAST: SRC, WEST: DST})})
    return stack


def _state(stack: Any) -> dict[str, Any]:
    policies = {}
    for region in (EAST, WEST):
        ddb = _client("dynamodb", region)
        arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
        try:
            policies[region] = json.loads(ddb.get_resource_policy(ResourceArn=arn)["Policy"])
        except ddb.exceptions.PolicyNotFoundException:
            policies[region] = None
    replication = _client("s3", EAST).get_bucket_replication(Bucket=SRC)["ReplicationConfiguration"]
    return {"policies": policies, "replication": replication}


def test_pausing_the_table_and_the_bucket_then_reverting_restores_the_exact_state(stores: Any) -> None:
    before = _state(stores)
    record_injected(stores.run, "pause_table_replication", _driver(stores).pause_data_replication("dynamodb", ""), 0.0)
    record_injected(stores.run, "pause_bucket_replication", _driver(stores).pause_data_replication("s3", ""), 0.0)
    paused = _state(stores)
    for region in (EAST, WEST):
        deny = paused["policies"][region]["Statement"][-1]
        assert deny["Effect"] == "Deny" and deny["Principal"]["AWS"].endswith(
            "replication.dynamodb.amazonaws.com/AWSServiceRoleForDynamoDBReplication")
    assert paused["policies"][EAST]["Statement"][0] == EXISTING_POLICY["Statement"][0]
    assert [r["Status"] for r in paused["replication"]["Rules"]] == ["Disabled"]

    done = revert_outstanding(stores.run, _driver(stores), by="rollback")

    assert done == ["replication of bucket assets-east resumed (configuration restored)",
                    "replication of table carts resumed (resource policies restored)"]
    assert _state(stores) == before  # the east policy as it was, no policy in the west, the rule enabled
    assert outstanding(stores.run) == []


def test_a_table_or_bucket_outside_the_target_is_refused_before_any_call(stores: Any) -> None:
    before = _state(stores)
    driver = _driver(stores)
    with pytest.raises(FaultRefused, match=r"refused: table 'orders' is not the table of target 'aws-test' \(carts\)"):
        driver.pause_data_replication("dynamodb", "orders")
    with pytest.raises(FaultRefused, match="refused: bucket 'other' is not a bucket of target 'aws-test'"):
        driver.pause_data_replication("s3", "other")
    assert _state(stores) == before
    assert [r for r in stores.run.records("aws-calls.jsonl") if r["event"] != "planned"] == []


def test_the_dry_run_lists_every_call_and_changes_nothing(stores: Any) -> None:
    before = _state(stores)
    lines: list[str] = []
    driver = _driver(stores, dry_run=True, echo=lines.append)
    driver.pause_data_replication("dynamodb", TABLE)
    driver.pause_data_replication("s3", SRC)
    assert _state(stores) == before
    writes = [line for line in lines if "WRITE" in line]
    assert [w.split("(")[0] for w in writes] == [
        "dry run: WRITE dynamodb@us-east-1 put_resource_policy",
        "dry run: WRITE dynamodb@us-west-2 put_resource_policy", "dry run: WRITE s3@us-east-1 put_bucket_replication"]
    assert any("read  dynamodb@us-west-2 describe_table" in line for line in lines)


def test_the_store_ledger_writes_reads_back_and_cleans_up_its_entries(stores: Any) -> None:
    for store in ("dynamodb", "s3"):
        access = StoreAccess(stores.target, store, client_factory(stores.target))
        for seq in (1, 2, 3):
            assert access.put(EAST, "run-7", seq)[0] is Outcome.OK
        assert access.present(EAST, "run-7", [1, 2, 3, 4]) == {1, 2, 3}
        assert access.cleanup(EAST, "run-7", [1, 2, 3]) == 3
        assert access.present(EAST, "run-7", [1, 2, 3]) == set()
    assert _client("dynamodb", EAST).scan(TableName=TABLE)["Items"] == []
    versions = _client("s3", EAST).list_object_versions(Bucket=SRC)
    assert "Versions" not in versions and "DeleteMarkers" not in versions  # every version gone, not hidden
