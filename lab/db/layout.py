"""The fleet's folder: data directories, the socket folder, logs and the passfile.

As root, PostgreSQL runs as ``nobody`` (:func:`aftershock.core.procs.service_user`): the folder is handed to that
user, and
every parent must let it through, which is why the fleet lives under ``/dev/shm`` (fast tmpfs, world-traversable).
As a normal user, everything simply belongs to that user.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.errors import DatabaseError
from aftershock.core.procs import ServiceUser

_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes; PostgreSQL appends "/.s.PGSQL.<port>.lock"


@dataclass(frozen=True)
class FleetLayout:
    """Paths under one fleet root."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "s"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    def data_dir(self, name: str) -> Path:
        return self.data / name

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def create(self, user: ServiceUser, password: str) -> None:
        """Create the folders (private to ``user``) and the passfile; refuse unusable roots."""
        if len(str(self.sockets / ".s.PGSQL.65535.lock")) > _MAX_SOCKET_PATH:
            raise DatabaseError(
                f"database fleet root {self.root} is too long for Unix sockets: use a shorter path under /dev/shm"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if user.uid is not None and not reachable(self.root.parent, user):
            raise DatabaseError(
                f"user {user.name} cannot reach {self.root}: put the database fleet root under /dev/shm "
                "or make every parent folder traversable (o+x)"
            )
        for folder in (self.root, self.data, self.sockets, self.logs):
            folder.mkdir(exist_ok=True)
            os.chmod(folder, 0o700)
            give(folder, user)
        write_private(self.passfile, f"*:*:*:*:{_pgpass_escape(password)}\n", user)


def give(path: Path, user: ServiceUser) -> None:
    """Hand ``path`` to the service user (a no-op for a normal user)."""
    if user.uid is not None and user.gid is not None:
        os.chown(path, user.uid, user.gid)


def write_private(path: Path, text: str, user: ServiceUser) -> None:
    """Write a file only ``user`` can read (created 0600 so the content is never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    give(path, user)


def reachable(folder: Path, user: ServiceUser) -> bool:
    """True when ``user`` may traverse ``folder`` and all its parents."""
    for part in [folder, *folder.parents]:
        st = part.stat()
        if st.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _pgpass_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")
