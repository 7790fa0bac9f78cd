"""A shop pod's configuration: who it is, where its databases are, and how patient it is with them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    """Everything a pod needs; built by ``__main__`` from argv + env, or directly by tests.

    ``writer`` / ``reader`` are libpq conninfo strings *without* the password (libpq reads ``PGPASSWORD``).
    """

    name: str
    region: str
    az: str
    writer: str
    reader: str
    token_key: bytes = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    # Many pods share two cores and one PostgreSQL: keep pools small.
    reader_pool_min: int = 1
    reader_pool_max: int = 4
    writer_pool_min: int = 1
    writer_pool_max: int = 4
    connect_timeout_s: int = 2  # libpq's granularity is whole seconds
    statement_timeout_ms: int = 3000
    pool_timeout_s: float = 2.0
    # Hard bound on one request's database work (queueing + retries + queries), enforced client-side so a
    # black-holed connection cannot hang a request.
    db_deadline_s: float = 3.5
    # How long the pool keeps retrying a lost connection in the background before giving the slot up; kept
    # short so that a recovered database is picked up by the next request instead of after a long backoff.
    pool_reconnect_timeout_s: float = 3.0
    drain_s: float = 0.5
    token_ttl_s: int = 12 * 3600
