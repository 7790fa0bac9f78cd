"""The identity ledger on an AWS target, against moto's cognito-idp: guardrails, dry run, clean-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target, parse_target
from aftershock.faults.aws.cognito import CognitoCalls
from aftershock.probes.identity.access import IdentityAccess
from aftershock.probes.identity.cleanup import cleanup_identity_users
from aftershock.probes.identity.ledger import IdentityLedger
from tests.runkit import target_data

EAST, WEST = "us-east-1", "us-west-2"


def _pool(region: str, name: str) -> tuple[Any, str, str]:
    client = boto3.client("cognito-idp", region_name=region)
    pool_id = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = client.create_user_pool_client(UserPoolId=pool_id, ClientName="shop",
                                               ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    return client, pool_id, client_id


@pytest.fixture
def pools(aws_env: str) -> dict[str, tuple[Any, str, str]]:
    return {EAST: _pool(EAST, "shop-east"), WEST: _pool(WEST, "shop-west")}


def _target(pools: dict[str, tuple[Any, str, str]]) -> Target:
    identity = {"pools": [{"region": r, "pool_id": p, "client_id": c} for r, (_, p, c) in pools.items()],
                "export_period_s": 300, "migration": "reset", "test_user_prefix": "aftershock-test"}
    return parse_target(target_data(kind="aws", lab=None, aws={"allowed_account_ids": ["123456789012"]},
                                    identity=identity), "aws.yaml")


def _names(client: Any, pool_id: str) -> set[str]:
    return {u["Username"] for u in client.list_users(UserPoolId=pool_id)["Users"]}


def test_a_pool_outside_the_target_is_refused_before_any_call(pools: dict[str, tuple[Any, str, str]]) -> None:
    client, _, _ = pools[EAST]
    other = client.create_user_pool(PoolName="someone-elses")["UserPool"]["Id"]
    calls = CognitoCalls(_target(pools), EAST, client)
    with pytest.raises(FaultRefused) as refused:
        calls.call("AdminCreateUser", UserPoolId=other, Username="aftershock-test-r1-00001",
                   MessageAction="SUPPRESS")
    assert str(refused.value) == (f"AdminCreateUser: user pool {other!r} is not the pool of target 't' in {EAST} "
                                  f"({pools[EAST][1]}): only identity.pools may be touched")
    with pytest.raises(FaultRefused, match=r"^AdminDeleteUser: user 'alice' is not a test user"):
        calls.call("AdminDeleteUser", UserPoolId=pools[EAST][1], Username="alice")
    assert _names(client, other) == set()


def test_the_dry_run_lists_every_call_and_changes_nothing(pools: dict[str, tuple[Any, str, str]],
                                                          tmp_path: Path) -> None:
    access = IdentityAccess(_target(pools), dry_run=True)
    ledger = IdentityLedger(access, tmp_path, run_id="r1", primary=EAST, session_every=2)
    ledger.start(background=False)
    ledger.sign_up(1)
    ledger.sign_up(2)
    ledger.stop()
    cleanup_identity_users(tmp_path, access.target, access=access)
    east, west = pools[EAST][1], pools[WEST][1]
    assert [(c["operation"], c["region"], c["params"].get("Username")) for c in access.planned()] == [
        ("SignUp", EAST, "aftershock-test-r1-00001"), ("AdminConfirmSignUp", EAST, "aftershock-test-r1-00001"),
        ("SignUp", EAST, "aftershock-test-r1-00002"), ("AdminConfirmSignUp", EAST, "aftershock-test-r1-00002"),
        ("InitiateAuth", EAST, None),
        ("ListUsers", EAST, None),
        ("AdminDeleteUser", EAST, "aftershock-test-r1-00001"), ("AdminDeleteUser", EAST, "aftershock-test-r1-00002"),
        ("ListUsers", WEST, None),
        ("AdminDeleteUser", WEST, "aftershock-test-r1-00001"), ("AdminDeleteUser", WEST, "aftershock-test-r1-00002")]
    assert all("Password" not in c["params"] and "AuthParameters" not in c["params"] for c in access.planned())
    assert {c["params"].get("UserPoolId") for c in access.planned()} - {None} == {east, west}
    assert _names(pools[EAST][0], east) == set() and _names(pools[WEST][0], west) == set()
