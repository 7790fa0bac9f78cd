"""The AWS target's lock: a DynamoDB lease (moto), taken with conditional writes, renewed, expiring, forced."""

from __future__ import annotations

import socket
import time
from typing import Any

import boto3
import pytest

from aftershock.core.errors import FaultRefused, TargetLocked, UsageError
from aftershock.core.runlock import Holder
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.lease import DynamoLease
from aftershock.locking import holding, lock_for
from tests.aws.conftest import ACCOUNT, EAST

STARTED = 1714564800.0  # 2024-05-01 12:00:00 UTC
KEY = {"lock_id": {"S": "target/aws-lock"}}


def aws_target(**aws: Any) -> Target:
    return parse_target({
        "name": "aws-lock", "kind": "aws",
        "regions": [{"name": EAST, "role": "primary", "azs": [f"{EAST}a"]}],
        "front_door": {"url": "https://shop.example.com",
                       "endpoint_groups": [{"region": EAST, "traffic_dial": 100, "load_balancer": "alb"}]},
        "aws": {"allowed_account_ids": [ACCOUNT], **aws},
    }, "aws-lock.yaml")


@pytest.fixture
def table(aws_env: str) -> Any:
    client = boto3.client("dynamodb", region_name=EAST)
    client.create_table(TableName="aftershock-locks", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "lock_id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "lock_id", "KeyType": "HASH"}])
    return client


def other_holder() -> Holder:
    return Holder(run_id="20240501T120000Z-az-outage", host="ci-runner-7", pid=4242, started_at=STARTED)


LOCKED = ("target 'aws-lock' is locked by run 20240501T120000Z-az-outage on ci-runner-7 (pid 4242, started "
          "2024-05-01 12:00:00 UTC): wait for that run to finish, or pass --force-unlock if it is dead")


def test_the_lease_is_an_item_the_team_sees_and_is_deleted_on_release(table: Any) -> None:
    lease = lock_for(aws_target())
    assert isinstance(lease, DynamoLease)
    held = lease.acquire(Holder(run_id="run-1", host=socket.gethostname(), pid=7, started_at=STARTED))
    item = table.get_item(TableName="aftershock-locks", Key=KEY)["Item"]
    assert (item["run_id"]["S"], item["host"]["S"], item["pid"]["N"]) == ("run-1", socket.gethostname(), "7")
    assert float(item["started_at"]["N"]) == STARTED
    assert 299 < float(item["expires_at"]["N"]) - time.time() <= 300
    holder = lease.holder()
    assert holder is not None and holder.run_id == "run-1"
    held.release()
    held.release()
    assert "Item" not in table.get_item(TableName="aftershock-locks", Key=KEY)
    assert lease.holder() is None


def test_a_second_run_is_refused_naming_the_holder(table: Any) -> None:
    first = DynamoLease(aws_target()).acquire(other_holder())
    try:
        with pytest.raises(TargetLocked) as info:
            DynamoLease(aws_target()).acquire(Holder.here("run-2"))
        assert str(info.value) == LOCKED
        assert info.value.exit_code == 2
    finally:
        first.release()


def test_an_expired_lease_is_taken_over(table: Any) -> None:
    """The holder died: it stopped renewing, its lease expired."""
    dead = other_holder()  # its item, as a holder that died left it: not renewed since it expired a second ago
    table.put_item(TableName="aftershock-locks", Item={
        **KEY, "run_id": {"S": dead.run_id}, "host": {"S": dead.host}, "pid": {"N": str(dead.pid)},
        "started_at": {"N": str(dead.started_at)}, "expires_at": {"N": str(time.time() - 1)}, "token": {"S": "old"}})
    assert DynamoLease(aws_target()).holder() is None
    warnings: list[str] = []
    lease = DynamoLease(aws_target())
    held = lease.acquire(Holder.here("run-2"), warn=warnings.append)
    assert warnings == ["taking over the lock of target 'aws-lock' from run 20240501T120000Z-az-outage on "
                        "ci-runner-7 (pid 4242, started 2024-05-01 12:00:00 UTC): its lease expired"]
    holder = lease.holder()
    assert holder is not None and holder.run_id == "run-2"
    held.release()


def test_a_held_lease_is_renewed_and_does_not_expire(table: Any) -> None:
    lease = DynamoLease(aws_target(lock_ttl_s=0.6))
    held = lease.acquire(Holder.here("run-1"))
    try:
        time.sleep(1.0)  # longer than the lease: renewed every 0.2 s
        with pytest.raises(TargetLocked):
            DynamoLease(aws_target()).acquire(Holder.here("run-2"))
    finally:
        held.release()


def test_force_unlock_takes_a_live_lease_and_the_old_holder_does_not_delete_it(table: Any) -> None:
    first = DynamoLease(aws_target()).acquire(other_holder())
    warnings: list[str] = []
    lease = DynamoLease(aws_target())
    second = lease.acquire(Holder.here("run-2"), force=True, warn=warnings.append)
    assert warnings == ["taking over the lock of target 'aws-lock' from run 20240501T120000Z-az-outage on "
                        "ci-runner-7 (pid 4242, started 2024-05-01 12:00:00 UTC): forced (--force-unlock)"]
    first.release()  # its conditional delete no longer matches
    holder = lease.holder()
    assert holder is not None and holder.run_id == "run-2"
    second.release()
    assert lease.holder() is None


def test_a_game_days_steps_run_under_its_lease(table: Any) -> None:
    with holding([aws_target()], run_id="20240501T120000Z-gameday-q2"):
        lease = DynamoLease(aws_target())
        # the step's own run: nested, nothing taken or deleted
        lease.acquire(Holder.here("step-1", under="20240501T120000Z-gameday-q2")).release()
        holder = lease.holder()
        assert holder is not None and holder.run_id == "20240501T120000Z-gameday-q2"
    assert DynamoLease(aws_target()).holder() is None


def test_a_missing_table_says_how_to_create_it(aws_env: str) -> None:
    with pytest.raises(UsageError) as info:
        DynamoLease(aws_target(lock_table="team-locks")).acquire(Holder.here("run-1"))
    assert str(info.value) == (
        "the lock table 'team-locks' does not exist in us-east-1: create it once (partition key lock_id, type "
        "string: `aws dynamodb create-table --table-name team-locks --attribute-definitions "
        "AttributeName=lock_id,AttributeType=S --key-schema AttributeName=lock_id,KeyType=HASH --billing-mode "
        "PAY_PER_REQUEST --region us-east-1`) or name another in aws.lock_table")


def test_the_lease_is_written_only_in_an_allowed_account(table: Any) -> None:
    with pytest.raises(FaultRefused, match=r"AWS account 123456789012 is not in aws\.allowed_account_ids"):
        DynamoLease(aws_target(allowed_account_ids=["999999999999"])).acquire(Holder.here("run-1"))
    assert "Item" not in table.get_item(TableName="aftershock-locks", Key=KEY)
