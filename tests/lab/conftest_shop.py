"""Fixtures for the shop tests: a throwaway PostgreSQL 16 (pgserver's binaries) and shop settings.

Imported explicitly by the ``test_shop_*.py`` files (``from tests.lab.conftest_shop import ...``), so it does not
interfere with the shared ``tests/lab/conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
import pytest

from aftershock.core.procs import ServiceUser, run, service_user, spawn, stop
from aftershock.lab.db.binaries import find_binaries
from aftershock.lab.ports import free_port
from aftershock.lab.shop.app import create_app
from aftershock.lab.shop.schema import load_schema_and_seed
from aftershock.lab.shop.settings import Settings

PG_BIN = find_binaries(service_user()).bin_dir  # reachable by the account PostgreSQL runs as (root: nobody)
DB_USER = "shop"
DB_PASSWORD = "lab-test-password"  # a throwaway test server's password, not a secret
TOKEN_KEY = b"lab-test-token-key"
T = TypeVar("T")


@dataclass
class PostgresServer:
    """One PostgreSQL server in a data directory under /dev/shm, as ``nobody`` when we are root."""

    data_dir: Path
    port: int
    user: ServiceUser
    proc: subprocess.Popen[bytes] | None = None

    @property
    def conninfo(self) -> str:
        """Conninfo without the password (tests export it as PGPASSWORD, like the lab does)."""
        return f"host=127.0.0.1 port={self.port} dbname=shop user={DB_USER}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def init(self) -> None:
        pwfile = self.data_dir.parent / "pwfile"
        pwfile.write_text(DB_PASSWORD + "\n")
        self._own(pwfile)
        run(
            [
                str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", DB_USER, "--pwfile", str(pwfile),
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
            ],
            user=self.user,
            timeout=120,
        )  # fmt: skip
        self.start()
        with psycopg.connect(self.conninfo.replace("dbname=shop", "dbname=postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE shop")

    def start(self) -> None:
        argv = [
            str(PG_BIN / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data_dir}",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=100", "-c", "shared_buffers=32MB",
        ]  # fmt: skip
        self.proc = spawn(argv, log_path=self.log_path, user=self.user)
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.conninfo.replace("dbname=shop", "dbname=postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start: {self.log_path.read_text()[-2000:]}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, the port closes."""
        if self.proc is not None:
            stop(self.proc, grace=15, sig=signal.SIGINT)
            self.proc = None

    def _own(self, path: Path) -> None:
        if self.user.uid is not None:
            os.chown(path, self.user.uid, self.user.gid or -1)

    @classmethod
    def create(cls) -> PostgresServer:
        user = service_user()
        base = Path(tempfile.mkdtemp(prefix="aftershock-shop-pg-", dir="/dev/shm"))
        if user.uid is not None:
            os.chown(base, user.uid, user.gid or -1)
        data_dir = base / "data"
        server = cls(data_dir=data_dir, port=free_port(), user=user)
        server.init()
        return server

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_password() -> Iterator[None]:
    """libpq reads the password from PGPASSWORD, in this process and in pods it starts."""
    previous = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = DB_PASSWORD
    yield
    if previous is None:
        os.environ.pop("PGPASSWORD", None)
    else:
        os.environ["PGPASSWORD"] = previous


@pytest.fixture(scope="session")
def seeded_pg(pg_password: None) -> Iterator[PostgresServer]:
    """A shared, seeded server (small catalogue); tests must not assume an empty cart or order table."""
    server = PostgresServer.create()
    try:
        load_schema_and_seed(server.conninfo, products=300, users=200)
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_pg(pg_password: None) -> Iterator[PostgresServer]:
    """A server of one's own, e.g. to stop and restart it."""
    server = PostgresServer.create()
    try:
        yield server
    finally:
        server.destroy()


def shop_settings(server: PostgresServer, **overrides: object) -> Settings:
    """Settings for an in-process pod talking to ``server`` as both writer and reader."""
    values: dict[str, object] = {
        "name": "shop-test-pod",
        "region": "us-east-1",
        "az": "us-east-1a",
        "writer": server.conninfo,
        "reader": server.conninfo,
        "token_key": TOKEN_KEY,
        "port": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def run_with_client(settings: Settings, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    """Run the real app in-process (lifespan included), wait until ready, and drive it with ``scenario``."""

    async def main() -> T:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
                deadline = time.monotonic() + 15
                while (await client.get("/ready")).status_code != 200:
                    assert time.monotonic() < deadline, "app never became ready"
                    await asyncio.sleep(0.02)
                return await scenario(client)

    return asyncio.run(main())


async def login(client: httpx.AsyncClient, n: int) -> dict[str, str]:
    """Log in as seeded user ``shopper-<n>``; the Authorization header to use."""
    response = await client.post("/api/login", json={"username": f"shopper-{n}", "password": f"pw-{n}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def concurrent_checkouts(settings: Settings, user_id: int, rounds: int) -> list[list[int]]:
    """Per round: shopper ``user_id`` fills a cart with products 1-3, then 8 checkouts race for it; their statuses,
    sorted (one 201 and seven 409s when exactly one claimed the cart)."""

    async def scenario(client: httpx.AsyncClient) -> list[int]:
        auth = await login(client, user_id)
        for product_id in (1, 2, 3):
            await client.post("/api/cart/items", headers=auth, json={"product_id": product_id, "quantity": 1})
        responses = await asyncio.gather(*(client.post("/api/checkout", headers=auth) for _ in range(8)))
        return sorted(r.status_code for r in responses)

    return [run_with_client(settings, scenario) for _ in range(rounds)]


def start_pod(
    server: PostgresServer, port: int, log_path: Path, name: str = "shop-us-east-1a-test", *extra: str
) -> subprocess.Popen[bytes]:
    """``python -m aftershock.lab.shop`` as a real process (uvicorn, uvloop), like the deployment controller runs it.

    Output goes to ``log_path`` (a pipe nobody reads could fill up and stall the pod).
    """
    argv = [
        sys.executable, "-m", "aftershock.lab.shop", "--name", name, "--region", "us-east-1", "--az", "us-east-1a",
        "--port", str(port), "--writer", server.conninfo, "--reader", server.conninfo, *extra,
    ]  # fmt: skip
    env = {**os.environ, "PGPASSWORD": DB_PASSWORD, "SHOP_TOKEN_KEY": TOKEN_KEY.decode()}
    with open(log_path, "ab") as log:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(port: int, timeout: float = 30.0) -> float:
    """Seconds until the pod on ``port`` answers /ready with 200."""
    started = time.monotonic()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        while True:
            try:
                if client.get("/ready").status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < timeout, "pod never became ready"
            time.sleep(0.01)


def stop_pod(proc: subprocess.Popen[bytes]) -> None:
    """Make sure a pod started by a test is gone."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
