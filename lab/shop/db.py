"""Connection pools for the writer and reader endpoints, and the policy for surviving failovers.

The endpoints are TCP proxies whose backends move, so any pooled connection can die at any time:

* a connection found dead (or pointing at a read-only server) is discarded and the work is retried on a
  fresh one, as long as a retry cannot duplicate a write: never after COMMIT was sent;
* every unit of work has a client-side deadline (queueing + retries + queries), so a black-holed
  connection yields a fast :class:`DatabaseUnavailable` (HTTP 503) instead of a hung request;
* the pool gives up background reconnection quickly and regrows on demand, so a recovered database is
  used by the very next request rather than after an exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from aftershock.core.errors import AftershockError
from aftershock.lab.shop.settings import Settings

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]
Work = Callable[[Conn], Awaitable[T]]

log = logging.getLogger("aftershock.lab.shop.db")

# Enough to skip every dead connection of a small pool after a failover, few enough to never spin.
_MAX_ATTEMPTS = 6


class DatabaseUnavailable(AftershockError):
    """The database could not do the work in time; the request should fail fast with 503."""


def _unavailable(exc: BaseException) -> bool:
    """Errors that mean "the database (endpoint) is not serving us right now", not a bug in the query."""
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | psycopg.errors.ReadOnlySqlTransaction)


def _retryable(exc: BaseException) -> bool:
    # A statement timeout already used the request's time: retrying would only double the wait.
    return _unavailable(exc) and not isinstance(exc, psycopg.errors.QueryCanceled)


def _stale(exc: BaseException) -> bool:
    """Errors after which the connection must not go back to the pool even if it still looks open."""
    return isinstance(
        exc,
        psycopg.errors.ReadOnlySqlTransaction  # the writer endpoint's old backend was demoted
        | psycopg.errors.AdminShutdown
        | psycopg.errors.CannotConnectNow
        | psycopg.InterfaceError,
    )


def endpoint_conninfo(conninfo: str, settings: Settings, *, writer: bool) -> str:
    """``conninfo`` plus the pod's timeouts; the writer also insists on a read-write server."""
    extra: dict[str, Any] = {
        "connect_timeout": settings.connect_timeout_s,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "application_name": settings.name,
    }
    given = conninfo_to_dict(conninfo)
    if "options" not in given:
        extra["options"] = f"-c statement_timeout={settings.statement_timeout_ms}"
    if writer and "target_session_attrs" not in given:
        # A connection that lands on a just-demoted primary fails at connect time instead of at COMMIT.
        extra["target_session_attrs"] = "read-write"
    return make_conninfo(conninfo, **{k: v for k, v in extra.items() if k not in given})


class Database:
    """The pod's two pools and the way every request uses them (:meth:`read` and :meth:`write`)."""

    def __init__(self, settings: Settings) -> None:
        self._deadline_s = settings.db_deadline_s
        self._pool_timeout_s = settings.pool_timeout_s
        self.reader = self._pool(settings, settings.reader, "reader", writer=False)
        self.writer = self._pool(settings, settings.writer, "writer", writer=True)
        # Work abandoned at its deadline keeps running until psycopg has cleaned the connection up; hold a
        # reference so the task is not garbage-collected mid-flight.
        self._abandoned: set[asyncio.Task[Any]] = set()

    @staticmethod
    def _pool(settings: Settings, conninfo: str, role: str, *, writer: bool) -> AsyncConnectionPool[Conn]:
        return AsyncConnectionPool(
            endpoint_conninfo(conninfo, settings, writer=writer),
            min_size=settings.writer_pool_min if writer else settings.reader_pool_min,
            max_size=settings.writer_pool_max if writer else settings.reader_pool_max,
            # Autocommit: a single-statement read is one round trip; multi-statement work opens an
            # explicit transaction.
            kwargs={"autocommit": True},
            name=f"{settings.name}-{role}",
            timeout=settings.pool_timeout_s,
            reconnect_timeout=settings.pool_reconnect_timeout_s,
            open=False,
        )

    async def open(self) -> None:
        """Start connecting in the background (a database that is down does not block startup)."""
        await self.reader.open(wait=False)
        await self.writer.open(wait=False)

    async def close(self) -> None:
        """Abandon in-flight leftovers and close both pools."""
        for task in list(self._abandoned):
            task.cancel()
        await self.reader.close(timeout=1.0)
        await self.writer.close(timeout=1.0)

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` on a reader connection (autocommit); retried on a fresh connection if one died."""
        return await self._run(self.reader, work, transaction=False)

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in one writer transaction; retried only when it surely did not commit."""
        return await self._run(self.writer, work, transaction=True)

    async def read_writer(self, work: Work[T]) -> T:
        """Run read-only ``work`` on the writer (read-your-writes), without a transaction."""
        return await self._run(self.writer, work, transaction=False)

    async def _run(self, pool: AsyncConnectionPool[Conn], work: Work[T], *, transaction: bool) -> T:
        task = asyncio.ensure_future(self._attempts(pool, work, transaction))
        try:
            async with asyncio.timeout(self._deadline_s):
                # shield(): on timeout only our wait is cancelled; the task is cancelled below without
                # waiting, because psycopg's cancellation of a stuck query can itself take seconds.
                return await asyncio.shield(task)
        except TimeoutError:
            raise DatabaseUnavailable(f"no answer within {self._deadline_s:.1f} s") from None
        finally:
            if not task.done():
                task.cancel()
                self._abandoned.add(task)
                task.add_done_callback(self._abandoned.discard)

    async def _attempts(self, pool: AsyncConnectionPool[Conn], work: Work[T], transaction: bool) -> T:
        give_up_at = time.monotonic() + self._deadline_s
        attempt = 0
        while True:
            attempt += 1
            wait_s = max(0.01, min(self._pool_timeout_s, give_up_at - time.monotonic()))
            try:
                conn = await pool.getconn(timeout=wait_s)
            except psycopg.OperationalError as exc:  # PoolTimeout, or PoolClosed while shutting down
                raise DatabaseUnavailable(f"{pool.name}: no connection ({type(exc).__name__})") from exc
            committing = False
            try:
                if transaction:
                    async with conn.transaction():
                        result = await work(conn)
                        committing = True  # leaving the block sends COMMIT
                else:
                    result = await work(conn)
                return result
            except psycopg.Error as exc:
                if not _unavailable(exc):
                    raise
                if _stale(exc) and not conn.closed:
                    await conn.close()  # the pool replaces closed connections
                log.warning("%s: attempt %d failed: %s", pool.name, attempt, type(exc).__name__)
                # After COMMIT was sent the outcome is unknown: a retry could write twice.
                last = attempt >= _MAX_ATTEMPTS or time.monotonic() >= give_up_at
                if committing or last or not _retryable(exc):
                    raise DatabaseUnavailable(f"{pool.name}: {type(exc).__name__}") from exc
            finally:
                await pool.putconn(conn)
