"""Fixtures for the RPO ledger tests: a real PostgreSQL fleet behind a small retargetable TCP proxy.

The proxy stands for the database's writer endpoint: the fleet's ``on_topology_change`` points it at the current
writer, as the lab's Envoy does; connections to the previous writer are reset when it moves.
"""

from __future__ import annotations

import secrets
import selectors
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from aftershock.lab.db import DatabaseFleet, FleetTopology, NodeSpec
from aftershock.lab.ports import free_ports
from aftershock.lab.shop.schema import load_schema_and_seed
from aftershock.lab.topology import DB_INSTANCES, DB_NAME, DB_USER
from tests.runfixtures import _isolated_home, configuration, driver, lab_home, run, target_file  # noqa: F401  (fixtures)


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:<backend> (``None``: refuse by closing at once).

    ``freeze()`` stops forwarding bytes on every connection (a frozen server, as the client sees it) while new
    connections are still accepted.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._backend: int | None = None
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._frozen = threading.Event()
        self._accepter = threading.Thread(target=self._accept, name="test-proxy-accept", daemon=True)
        self._accepter.start()

    def point_at(self, port: int | None) -> None:
        with self._lock:
            moved, self._backend = port != self._backend, port
            pairs = list(self._pairs) if moved else []
        for pair in pairs:  # the old backend's connections are reset, as when an endpoint moves; a republished
            _shutdown(*pair)  # topology with the same writer (a replica rebuilt) leaves them alone, as Envoy does

    def freeze(self, frozen: bool = True) -> None:
        (self._frozen.set if frozen else self._frozen.clear)()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            pairs = list(self._pairs)
        self.point_at(None)
        for pair in pairs:
            _shutdown(*pair)
        self._accepter.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                backend_port = self._backend
            try:
                if backend_port is None:
                    raise ConnectionRefusedError
                backend = socket.create_connection(("127.0.0.1", backend_port), timeout=1.0)
            except OSError:
                client.close()
                continue
            pair = (client, backend)
            with self._lock:
                self._pairs.add(pair)
            thread = threading.Thread(target=self._pump, args=(pair,), name="test-proxy-pump", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, backend = pair
        with selectors.DefaultSelector() as sel:
            sel.register(client, selectors.EVENT_READ, backend)
            sel.register(backend, selectors.EVENT_READ, client)
            try:
                while not self._closed.is_set():
                    if self._frozen.is_set():
                        self._closed.wait(0.02)
                        continue
                    for key, _ in sel.select(0.05):
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        key.data.sendall(data)
            except OSError:
                return
            finally:
                with self._lock:
                    self._pairs.discard(pair)
                client.close()
                backend.close()


def _shutdown(*socks: socket.socket) -> None:
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            continue


@dataclass
class LedgerLab:
    """A running fleet, the proxy standing for its writer endpoint, the password and the fleet's events."""

    fleet: DatabaseFleet
    proxy: TcpProxy
    password: str
    root: Path
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def endpoint_conninfo(self, password: str | None = None) -> str:
        """The writer endpoint (through the proxy), with the password."""
        return make_conninfo(host="127.0.0.1", port=self.proxy.port, dbname=DB_NAME, user=DB_USER,
                             password=self.password if password is None else password, connect_timeout=2)

    def seqs_on(self, node: str, run_id: str) -> set[int]:
        """Truth: the seqs of ``run_id`` in ``node``'s table, queried directly (not through the ledger code)."""
        with psycopg.connect(self.fleet.conninfo(node, password=self.password), autocommit=True) as conn:
            rows = conn.execute("SELECT seq FROM aftershock_ledger WHERE writer = %s", (run_id,)).fetchall()
        return {int(r[0]) for r in rows}


def _seed(conninfo: str) -> None:
    """The shop's real schema (it creates aftershock_ledger), with a tiny catalogue."""
    load_schema_and_seed(conninfo, products=10, users=10)


def lab_processes(root: Path) -> list[int]:
    """Pids of processes whose command line mentions ``root`` (the fleet's servers and tools)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(root).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.fixture
def make_ledger_lab() -> Iterator[Callable[..., LedgerLab]]:
    """Build fleets shaped like aftershock.lab.topology.DB_INSTANCES behind a proxy; all are stopped at teardown."""
    made: list[LedgerLab] = []

    def make(**options: Any) -> LedgerLab:
        root = Path(f"/dev/shm/aftershock-l{secrets.token_hex(4)}")
        ports = free_ports(len(DB_INSTANCES))
        specs = [NodeSpec(s.name, s.region, s.az, port) for s, port in zip(DB_INSTANCES, ports, strict=True)]
        proxy = TcpProxy()
        events: list[tuple[str, dict[str, Any]]] = []

        def moved(topology: FleetTopology) -> None:
            proxy.point_at(topology.writer.port if topology.writer else None)

        password = secrets.token_urlsafe(18)
        fleet = DatabaseFleet(root, specs, password, lambda kind, /, **f: events.append((kind, f)), moved,
                              **{"rebuild_delay_s": 1.0, **options})
        lab = LedgerLab(fleet, proxy, password, root, events)
        made.append(lab)
        fleet.bootstrap(init=_seed)
        fleet.start_monitor()
        return lab

    yield make
    for lab in made:
        lab.fleet.stop()
        lab.proxy.close()
        leftover = lab_processes(lab.root)
        shutil.rmtree(lab.root, ignore_errors=True)
        assert leftover == [], f"processes left behind: {leftover}"


@pytest.fixture
def ledger_lab(make_ledger_lab: Callable[..., LedgerLab]) -> LedgerLab:
    return make_ledger_lab()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"
