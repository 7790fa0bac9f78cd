"""The identity ledger's finish paths from the run folder alone, on an AWS target (moto's cognito-idp): after the
harness died (the ledger dropped without stop), ``aftershock recover`` deletes exactly the run's test users in every
region, and the result probe and the rollback work in a process that holds none of the ledger's secrets."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from aftershock.cli.run import recover_command
from aftershock.core.measurements import IdentityRpoMeasurement, measurements_of
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target, dump_target, parse_target
from aftershock.planning import resolve_plan
from aftershock.probes.identity.access import IdentityAccess
from aftershock.probes.identity.activities import identity_ledger_result, stop_identity_ledger
from aftershock.probes.identity.ledger import IdentityLedger
from aftershock.probes.identity.record import read_identity_record
from tests.runkit import target_data

EAST, WEST = "us-east-1", "us-west-2"
Pools = dict[str, tuple[Any, str, str]]


def _pool(region: str) -> tuple[Any, str, str]:
    client = boto3.client("cognito-idp", region_name=region)
    pool_id = client.create_user_pool(PoolName=f"shop-{region}")["UserPool"]["Id"]
    client_id = client.create_user_pool_client(UserPoolId=pool_id, ClientName="shop",
                                               ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]["ClientId"]
    return client, pool_id, client_id


@pytest.fixture
def pools(aws_env: str) -> Pools:
    return {EAST: _pool(EAST), WEST: _pool(WEST)}


def _target(pools: Pools) -> Target:
    identity = {"pools": [{"region": r, "pool_id": p, "client_id": c} for r, (_, p, c) in pools.items()],
                "export_period_s": 300, "migration": "reset", "test_user_prefix": "aftershock-test"}
    return parse_target(target_data(kind="aws", lab=None, aws={"allowed_account_ids": ["123456789012"]},
                                    identity=identity), "aws.yaml")


def _names(pools: Pools, region: str) -> set[str]:
    client, pool_id, _ = pools[region]
    return {u["Username"] for u in client.list_users(UserPoolId=pool_id)["Users"]}


_OTHERS = {"alice", "aftershock-test-20261129T090000Z-identity-region-failover-00001"}  # must stay
_LEDGER_PROCESS = """
import sys, time
from aftershock.probes.identity.activities import start_identity_ledger
start_identity_ledger(rate_per_s=20, session_every=2, configuration={"aftershock_run_dir": sys.argv[1]})
time.sleep(60)
"""


def _run_folder(pools: Pools, tmp_path: Path) -> RunFolder:
    """A run folder with the plan of an AWS target holding the two pools, and other users in both pools."""
    dump_target(_target(pools), tmp_path / "aws-identity.yaml")
    run = RunFolder(tmp_path / "runs" / "20261130T150000Z-identity-region-failover")
    run.path.mkdir(parents=True)
    write_plan(run, resolve_plan({}, experiment="identity.yaml", target_ref=str(tmp_path / "aws-identity.yaml")))
    for client, pool_id, _ in pools.values():
        for other in _OTHERS:
            client.admin_create_user(UserPoolId=pool_id, Username=other, MessageAction="SUPPRESS")
    return run


def _imported(pools: Pools, users: list[str]) -> None:
    """What the seed's import put into the standby pool (no password)."""
    west, west_pool, _ = pools[WEST]
    for user in users:
        west.admin_create_user(UserPoolId=west_pool, Username=user, MessageAction="SUPPRESS")


def test_recover_deletes_exactly_the_test_users_of_a_sigkilled_run(pools: Pools, tmp_path: Path) -> None:
    run = _run_folder(pools, tmp_path)
    ledger = subprocess.Popen([sys.executable, "-c", _LEDGER_PROCESS, str(run.path)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while len(read_identity_record(run.path).acknowledged) < 4:
            assert ledger.poll() is None and time.monotonic() < deadline, ledger.stderr.read() if ledger.stderr else ""
            time.sleep(0.05)
    finally:
        ledger.send_signal(signal.SIGKILL)
        ledger.communicate(timeout=10)
    record = read_identity_record(run.path)
    assert record.started and not record.ended  # killed: no end line
    _imported(pools, [s.user for s in record.acknowledged[:2]])
    left = _names(pools, EAST) - _OTHERS  # read from the pool: the sign-up in flight at the kill included
    assert {s.user for s in record.acknowledged} <= left and all(u.startswith(record.user_prefix) for u in left)

    result = CliRunner().invoke(recover_command, [str(run.path)])

    assert result.exit_code == 0, result.output
    assert f"cleaned up: identity ledger: {len(left)} test user(s) deleted in us-east-1" in result.output
    assert "cleaned up: identity ledger: 2 test user(s) deleted in us-west-2" in result.output
    assert _names(pools, EAST) == _OTHERS and _names(pools, WEST) == _OTHERS  # another run's users stay
    again = CliRunner().invoke(recover_command, [str(run.path)])
    assert again.exit_code == 0 and "identity ledger: 0 test user(s) deleted in us-east-1" in again.output


def test_the_probe_and_the_rollback_work_from_the_run_folder_alone(pools: Pools, tmp_path: Path) -> None:
    run = _run_folder(pools, tmp_path)
    ledger = IdentityLedger(IdentityAccess(_target(pools)), run.path, run_id=run.path.name, primary=EAST)
    ledger.start(background=False)
    for seq in (1, 2, 3):
        assert ledger.sign_up(seq).acked_at is not None
    ledger.stop()  # another process's ledger: this one holds no password and no token of it
    ledger.access.close()
    _imported(pools, [ledger.user(1), ledger.user(2)])
    configuration = {"aftershock_run_dir": str(run.path)}

    found = identity_ledger_result(settle_s=0.2, replay_s=0.2, timeout_s=5.0, configuration=configuration)

    [measured] = measurements_of(run, IdentityRpoMeasurement)
    assert (measured.acknowledged, measured.kept, measured.lost, measured.lost_seqs) == (3, 2, 1, (3,))
    assert measured.signed_in == 2  # reset path: a new password, no old one needed; #3 is not at the standby
    assert measured.sessions_replayed is None and measured.sessions_rejected is None  # tokens were in memory
    assert found["rejected_session_rate"] is None and measured.cleaned == 5 and measured.cleanup_errors == ()
    assert _names(pools, EAST) == _names(pools, WEST) == _OTHERS
    assert stop_identity_ledger(configuration=configuration) == {"stopped": False, "deleted": 0, "errors": [],
                                                                 "measured": True}
