"""One PostgreSQL instance of the fleet: its data directory and its postmaster process.

The postmaster is started directly (``postgres -D ...``, not ``pg_ctl``) through :func:`aftershock.core.procs.spawn`,
so it
dies with the supervisor. The control plane talks to it as superuser ``postgres`` over the private Unix socket
folder; replicas stream over TCP as ``shop`` with the password read from the fleet's passfile, never from argv.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from aftershock.core import procs
from aftershock.core.errors import DatabaseError
from aftershock.core.procs import ServiceUser
from aftershock.lab.db.binaries import PgBinaries
from aftershock.lab.db.environment import server_env
from aftershock.lab.db.layout import FleetLayout, give
from aftershock.lab.db.models import NodeSpec
from aftershock.lab.topology import DB_USER

_IPC_RMID = 0
_libc = ctypes.CDLL(None, use_errno=True)

_WAL_QUERY = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
       pg_last_wal_receive_lsn()::text,
       pg_last_wal_replay_lsn()::text,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
       CASE WHEN pg_is_in_recovery()
            THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver),
                          (SELECT timeline_id FROM pg_control_checkpoint()))
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
       (SELECT status FROM pg_stat_wal_receiver),
       (SELECT sender_port FROM pg_stat_wal_receiver),
       current_setting('primary_conninfo')
"""


def lsn_to_int(lsn: str | None) -> int | None:
    """``"0/3000148"`` -> byte position."""
    if not lsn:
        return None
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class WalState:
    """What one server says about its WAL position and stream."""

    in_recovery: bool
    current_lsn: str | None
    received_lsn: str | None
    replayed_lsn: str | None
    replay_age_s: float | None
    timeline: int | None
    receiver_status: str | None
    sender_port: int | None
    primary_conninfo: str


class PgNode:
    """One instance: data directory, postmaster, and the operations the control plane performs on it."""

    def __init__(self, spec: NodeSpec, layout: FleetLayout, bins: PgBinaries, user: ServiceUser) -> None:
        self.spec = spec
        self.layout = layout
        self.bins = bins
        self.user = user
        self.data_dir = layout.data_dir(spec.name)
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"PgNode({self.spec.name!r}, port={self.spec.port}, alive={self.alive})"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # --- process -------------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Start the postmaster and wait until it accepts connections."""
        if self.alive:
            return
        argv = [self.bins.tool("postgres"), "-D", str(self.data_dir), "-p", str(self.spec.port),
                "-k", str(self.layout.sockets), "-c", f"cluster_name={self.spec.name}"]
        self._proc = procs.spawn(argv, log_path=self.layout.log(self.name), user=self.user, env=server_env())
        if not self.wait_ready(timeout):
            self.crash()
            raise DatabaseError(
                f"PostgreSQL {self.name} did not accept connections within {timeout:.0f}s: "
                f"see {self.layout.log(self.name)} ({self._log_tail()})"
            )

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the server answers a query (False when it died or the time ran out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                return False
            try:
                with self.connect(timeout=2.0) as conn:
                    conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                time.sleep(0.02)
        return False

    def stop(self, grace: float = 10.0) -> None:
        """Clean ("fast") shutdown: a shutdown checkpoint is written and streamed to connected replicas.

        A server that does not stop within ``grace`` seconds is crashed.
        """
        if self._proc is None or not self.alive:
            return
        try:
            self._proc.send_signal(signal.SIGINT)
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.crash()

    def crash(self) -> None:
        """A real crash: freeze the postmaster, SIGKILL its children, SIGKILL it (lab-parts.md)."""
        if self._proc is None or self._proc.poll() is not None:  # never signal a reaped (reusable) pid
            return
        procs.crash(self._proc.pid)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired as exc:
            raise DatabaseError(f"PostgreSQL {self.name} (pid {self._proc.pid}) survived SIGKILL") from exc
        self._release_interlock_segment()

    def _release_interlock_segment(self) -> None:
        """Remove the small System V segment a killed postmaster leaves behind (its id is in postmaster.pid).

        A restart in place would reclaim it, but a re-clone deletes postmaster.pid and the segment would leak.
        """
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
            shmid = int(lines[6].split()[1])
        except (OSError, IndexError, ValueError):
            return
        _libc.shmctl(shmid, _IPC_RMID, None)  # fails harmlessly if it is gone or still attached

    # --- queries -------------------------------------------------------------------------------------------

    def connect(self, dbname: str = "postgres", timeout: float = 2.0) -> psycopg.Connection[tuple[Any, ...]]:
        """A superuser connection over the private socket folder (autocommit)."""
        return psycopg.connect(
            host=str(self.layout.sockets), port=self.spec.port, user="postgres", dbname=dbname,
            autocommit=True, connect_timeout=max(2, round(timeout)),
            application_name="aftershock-control",
        )

    def execute(self, query: str | sql.Composed, params: tuple[Any, ...] = (), dbname: str = "postgres") -> None:
        with self.connect(dbname) as conn:
            conn.execute(query, params)

    def fetch_one(self, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self.connect() as conn:
            return conn.execute(query, params).fetchone()

    def wal_state(self) -> WalState:
        with self.connect() as conn:
            row = conn.execute(_WAL_QUERY).fetchone()
        assert row is not None
        return WalState(*row)

    def promote(self) -> None:
        """Promote this replica to a writer (``pg_promote`` waits until it accepts writes)."""
        row = self.fetch_one("SELECT pg_promote(true, 30)")
        if not row or not row[0]:
            raise DatabaseError(f"promotion of {self.name} did not finish within 30s: see {self.layout.log(self.name)}")

    def set_upstream(self, conninfo: str) -> None:
        """Point a running replica at another writer, or cut its stream with ``''`` (takes effect on reload)."""
        with self.connect() as conn:
            conn.execute(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(conninfo)))
            conn.execute("SELECT pg_reload_conf()")

    def has_marker(self, token: str) -> bool:
        try:
            return self.fetch_one("SELECT 1 FROM lab_marker WHERE token = %s", (token,)) is not None
        except psycopg.Error:
            return False

    # --- data directory ------------------------------------------------------------------------------------

    def upstream_conninfo(self, writer_port: int) -> str:
        """How this replica reaches a writer: TCP as the app user, password from the passfile."""
        return (f"host=127.0.0.1 port={writer_port} user={DB_USER} passfile={self.layout.passfile} "
                f"application_name={self.name} connect_timeout=2")

    def clone_from(self, upstream: PgNode) -> None:
        """Replace the data directory with a base backup of ``upstream`` and configure it as its replica."""
        if self.alive:
            raise DatabaseError(f"cannot clone into running PostgreSQL {self.name}: stop it first")
        self.remove_data()
        result = procs.run(
            [self.bins.tool("pg_basebackup"), "-D", str(self.data_dir), "-h", str(self.layout.sockets),
             "-p", str(upstream.spec.port), "-U", "postgres", "-X", "stream", "-c", "fast", "--no-sync", "-w"],
            user=self.user, timeout=120, check=False, env=server_env(),
        )
        if result.returncode != 0:
            raise DatabaseError(
                f"pg_basebackup of {upstream.name} into {self.name} failed: {result.stderr.strip()[-300:]}"
            )
        self.write_standby_config(self.upstream_conninfo(upstream.spec.port))

    def write_standby_config(self, conninfo: str) -> None:
        """Make a stopped data directory start as a replica of ``conninfo`` (standby.signal + primary_conninfo)."""
        auto = self.data_dir / "postgresql.auto.conf"
        kept = [line for line in auto.read_text(encoding="utf-8").splitlines()
                if not line.strip().startswith("primary_conninfo")] if auto.exists() else []
        escaped = conninfo.replace("'", "''")
        auto.write_text("\n".join([*kept, f"primary_conninfo = '{escaped}'"]) + "\n", encoding="utf-8")
        signal_file = self.data_dir / "standby.signal"
        signal_file.touch()
        for path in (auto, signal_file):
            give(path, self.user)

    def remove_data(self) -> None:
        if self.data_dir.exists():
            procs.run(["rm", "-rf", str(self.data_dir)], timeout=60)

    def _log_tail(self) -> str:
        try:
            lines = self.layout.log(self.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "empty log"
