"""The identity ledger against real stand-in servers (moto's cognito-idp and DynamoDB, one process per region) and
the lab's real export/import: its lost count equals the users missing from the standby pool, read directly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.target import Target, parse_target
from aftershock.lab.identity.part import LabIdentity
from aftershock.lab.identity.settings import IDENTITY_TABLE, IdentitySettings
from aftershock.lab.identity.wire import CognitoWire
from aftershock.lab.standins.replicator import ReplicationSettings
from aftershock.lab.standins.standins import StandIns, StoreSettings
from aftershock.probes.identity.access import IdentityAccess
from aftershock.probes.identity.cleanup import cleanup_identity_users
from aftershock.probes.identity.ledger import IdentityLedger
from aftershock.probes.identity.readback import read_back_identity
from tests.runkit import target_data

EAST, WEST = "us-east-1", "us-west-2"
PERIOD_S = 2.0  # the export period: long enough to sign users up and lose the region between two exports


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StandIns, LabIdentity, Target]]:
    root = tmp_path_factory.mktemp("identity")
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, /, **fields: Any) -> None:
        events.append((kind, fields))

    standins = StandIns((EAST, WEST), root / "aws", StoreSettings(
        replication=ReplicationSettings(global_tables=("shop-carts", IDENTITY_TABLE))), emit)
    identity = LabIdentity(IdentitySettings(export_period_s=PERIOD_S), standins.endpoints, root / "identity.json", emit)
    try:
        standins.start()
        identity.start()
        description = identity.description()
        assert description is not None
        target = parse_target(target_data(identity=description.model_dump(mode="json")), "t.yaml")
        yield standins, identity, target
    finally:
        identity.stop()
        standins.stop()


def _standby_users(identity: LabIdentity, prefix: str) -> set[str]:
    """The standby pool's users, read with the lab's own client (not the ledger's code)."""
    wire = CognitoWire(identity.endpoints[WEST], WEST)
    try:
        users = wire.pages("ListUsers", {"UserPoolId": identity.pools[WEST].pool_id}, "Users")
    finally:
        wire.close()
    return {str(u["Username"]) for u in users if str(u["Username"]).startswith(prefix)}


def _wait(condition: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _run(parts: tuple[StandIns, LabIdentity, Target], tmp: Path, run_id: str, *, just_exported: bool) -> None:
    standins, identity, target = parts
    replication = identity.replication
    assert replication is not None
    ledger = IdentityLedger(IdentityAccess(target), tmp, run_id=run_id, primary=EAST, rate_per_s=20)
    ledger.start(background=False)  # the test signs up itself, in step with the export schedule
    if just_exported:  # sign up, then fail over right after an export that holds them was imported
        for seq in range(1, 7):
            ledger.sign_up(seq)
        last_ack = max(s.acked_at or 0 for s in ledger.signups)
        _wait(lambda: (replication.last_import or {}).get("snapshot_at", 0) > last_ack, 3 * PERIOD_S)
    else:  # fail over just before the next export: the users signed up since the last one are not exported
        before = (replication.last_export or {}).get("completed_at")
        _wait(lambda: (replication.last_export or {}).get("completed_at") != before, 2 * PERIOD_S)
        for seq in range(1, 5):
            ledger.sign_up(seq)
    failover_at = time.time()
    standins.lose_region(EAST)
    ledger.stop()
    try:
        result = read_back_identity(ledger, WEST, failover_at, settle_s=PERIOD_S + 0.5, replay_s=1.0)
        missing = {s.user for s in ledger.acknowledged} - _standby_users(identity, f"{ledger.user(0)[:-5]}")
        assert result.acknowledged == len(ledger.signups) and result.acknowledged > 0
        assert result.lost == len(missing)  # exact: the ledger's count is the pool's truth
        assert sorted(result.lost_seqs) == sorted(s.seq for s in ledger.acknowledged if s.user in missing)
        if just_exported:
            assert result.lost == 0 and result.after_last_export == 0
        else:
            assert result.lost == 4 and result.after_last_export == 4
        assert result.rpo_s is not None and 0 <= result.rpo_s <= 3 * PERIOD_S
        # reset path: every user who reached the standby can sign in after the reset; the lost ones cannot
        assert result.signed_in == result.kept and result.login_attempts == result.acknowledged
        # tokens of the primary's pool are unknown to the standby's: every replayed session is a forced re-login
        assert result.sessions_replayed == len(ledger.tokens) > 0
        assert result.sessions_rejected == result.sessions_replayed and result.rejected_at_end
    finally:
        standins.restore_region(EAST)
        done = cleanup_identity_users(tmp, target, access=ledger.access)
        ledger.access.close()
        assert done.errors == ()
        assert _standby_users(identity, f"{ledger.user(0)[:-5]}") == set()
        assert done.deleted >= len(ledger.acknowledged)


def test_a_failover_right_after_an_export_loses_no_user(parts: Any, tmp_path: Path) -> None:
    _run(parts, tmp_path, "after", just_exported=True)


def test_a_failover_just_before_the_next_export_loses_the_newest_users(parts: Any, tmp_path: Path) -> None:
    _run(parts, tmp_path, "before", just_exported=False)


def test_the_shops_login_issues_tokens_of_its_regions_pool_and_the_other_region_rejects_them(
        parts: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    import httpx
    from starlette.applications import Starlette

    from aftershock.lab.identity.part import issuer
    from aftershock.lab.shop import identity as shop_identity

    _, identity, _ = parts
    monkeypatch.setenv("SHOP_IDENTITY_FILE", str(identity.config_path))
    creds = {"username": "aftershock-test-shop-00001", "password": "Ax1!shop-password"}

    apps: list[Starlette] = []

    def shop(region: str) -> httpx.AsyncClient:  # the shop's identity routes in-process, the pools for real
        app = Starlette(routes=shop_identity.ROUTES)
        app.state.settings = SimpleNamespace(region=region)
        apps.append(app)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop")

    async def scenario() -> None:
        async with shop(EAST) as east, shop(WEST) as west:
            assert (await east.post("/api/identity/signup", json=creds)).status_code == 201
            login = (await east.post("/api/identity/login", json=creds)).json()
            assert login["issuer"] == issuer(EAST, identity.pools[EAST].pool_id) and login["region"] == EAST
            bearer = {"Authorization": f"Bearer {login['token']}"}
            assert (await east.get("/api/identity/me", headers=bearer)).json() == {"username": creds["username"],
                                                                                  "region": EAST}
            refused = await west.get("/api/identity/me", headers=bearer)
            assert refused.status_code == 401
            assert refused.json()["error"] == "token issued by another region's user pool: sign in again"
            assert (await west.post("/api/identity/login", json=creds)).status_code == 401  # no password there
        for app in apps:  # each shop's client to its pool, closed in the loop that opened it
            await app.state.identity_pool.http.aclose()

    asyncio.run(scenario())
    wire = CognitoWire(identity.endpoints[EAST], EAST)
    try:
        wire.call("AdminDeleteUser", {"UserPoolId": identity.pools[EAST].pool_id, "Username": creds["username"]})
    finally:
        wire.close()
