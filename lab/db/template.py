"""An initdb'd data directory, made once per PostgreSQL version and copied for every new writer.

initdb costs ~1 s on this machine; copying its result costs ~0.05 s (lab-parts.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from aftershock.core import procs
from aftershock.core.errors import DatabaseError
from aftershock.core.procs import ServiceUser
from aftershock.lab.db.binaries import PgBinaries
from aftershock.lab.db.environment import server_env
from aftershock.lab.db.layout import give

_TEMPLATE_REVISION = 2  # bump when the configuration below changes, so old caches are not reused

# Speed matters in the lab, durability semantics do not change: fsync and synchronous_commit stay on so an
# acknowledged commit is a real one. Short timeouts make lag and broken streams visible within a second or two.
SERVER_CONF = """
# --- aftershock lab ---
listen_addresses = '127.0.0.1'
max_connections = 60
shared_buffers = 32MB
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = 512MB            # lets a replica catch up after restore_replication without slots
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
wal_sender_timeout = 3s           # 1 s flaps on a busy 2-core machine
wal_receiver_timeout = 3s
wal_retrieve_retry_interval = 100ms  # a reattached replica reconnects at once (default 5 s)
recovery_target_timeline = 'latest'
log_line_prefix = '%m [%p] %q%u@%d '
log_statement = 'none'
log_min_messages = warning
unix_socket_permissions = 0700
dynamic_shared_memory_type = mmap  # segments live in the data dir, so a crashed server leaks nothing in /dev/shm
"""

# The control plane talks to every server as superuser "postgres" over the private Unix socket folder; the app
# user "shop" needs its password over TCP, for data and for replication.
HBA_CONF = """
local   all          postgres                    trust
local   replication  postgres                    trust
local   all          all                         scram-sha-256
host    all          shop       127.0.0.1/32     scram-sha-256
host    replication  shop       127.0.0.1/32     scram-sha-256
"""


def template_dir(cache_dir: Path, bins: PgBinaries) -> Path:
    return cache_dir / f"pg{bins.version}-r{_TEMPLATE_REVISION}"


def ensure_template(cache_dir: Path, bins: PgBinaries, user: ServiceUser) -> Path:
    """The cached template for this PostgreSQL version, made now if missing (safe against concurrent makers)."""
    target = template_dir(cache_dir, bins)
    if (target / "PG_VERSION").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(cache_dir, 0o700)
    give(cache_dir, user)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir))
    give(build, user)
    data = build / "data"
    result = procs.run(
        [bins.tool("initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync",
         "--auth-local=trust", "--auth-host=scram-sha-256"],
        user=user, timeout=120, check=False, env=server_env(),
    )
    if result.returncode != 0:
        shutil.rmtree(build, ignore_errors=True)
        raise DatabaseError(f"initdb failed in {cache_dir}: {result.stderr.strip()[-300:]}; check free space there")
    with (data / "postgresql.conf").open("a", encoding="utf-8") as fh:
        fh.write(SERVER_CONF)
    (data / "pg_hba.conf").write_text(HBA_CONF, encoding="utf-8")
    try:
        os.rename(data, target)
    except OSError:  # another process made it first: use theirs
        if not (target / "PG_VERSION").is_file():
            raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


def copy_template(template: Path, dest: Path, user: ServiceUser) -> None:
    """Copy the template to a new data directory owned by ``user`` (``cp -a``: fast, keeps modes and owner)."""
    if dest.exists():
        shutil.rmtree(dest)
    procs.run(["cp", "-a", str(template), str(dest)], user=user, timeout=60)
