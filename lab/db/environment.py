"""The environment PostgreSQL servers and tools run with."""

from __future__ import annotations

import os


def server_env() -> dict[str, str]:
    """Ours without libpq's variables: a PGPASSWORD (or PGHOST, PGUSER, ...) exported in the user's shell would
    otherwise override the replicas' passfile and connection settings (replication then fails to authenticate)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}
