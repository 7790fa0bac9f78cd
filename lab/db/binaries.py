"""Where the PostgreSQL binaries are: the ``pgserver`` wheel's ``pginstall/bin``.

The package is located, never imported: importing ``pgserver`` creates runtime folders.

As root, PostgreSQL runs as ``nobody``, which must be able to reach the binaries. A virtualenv inside a private
folder (a 0700 clone, ``/root/...``) is out of its reach: the installation (bin, lib, share) is then copied
once to a root-owned, read-only cache folder under ``/var/tmp`` that every user may traverse.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.errors import DatabaseError
from aftershock.core.procs import ServiceUser
from aftershock.lab.db.layout import reachable

SHARED_CACHE = Path("/var/tmp")


@dataclass(frozen=True)
class PgBinaries:
    """The PostgreSQL tools of one installation and its version (``"16.2"``)."""

    bin_dir: Path
    version: str

    def tool(self, name: str) -> str:
        """Absolute path of one tool (``postgres``, ``initdb``, ``pg_basebackup``, ...)."""
        return str(self.bin_dir / name)


def _candidate_dirs() -> list[Path]:
    found: list[Path] = []
    spec = importlib.util.find_spec("pgserver")  # a top-level find_spec does not execute the package
    if spec is not None and spec.submodule_search_locations:
        found.extend(Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations)
    found.append(Path(sysconfig.get_paths()["purelib"]) / "pgserver" / "pginstall" / "bin")
    return found


@functools.cache
def find_binaries(user: ServiceUser | None = None) -> PgBinaries:
    """The pgserver wheel's PostgreSQL binaries, reachable by ``user`` (the account PostgreSQL runs as; ``None``
    or a normal user: the current one); raises DatabaseError when the wheel is missing."""
    for bin_dir in _candidate_dirs():
        postgres = bin_dir / "postgres"
        if postgres.is_file():
            if user is not None and user.uid is not None and not reachable(bin_dir, user):
                bin_dir = _shared_copy(bin_dir.parent, user, SHARED_CACHE) / "bin"
            out = subprocess.run(
                [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True, timeout=10
            ).stdout
            match = re.search(r"(\d+(?:\.\d+)?)", out)
            return PgBinaries(bin_dir=bin_dir, version=match.group(1) if match else "unknown")
    raise DatabaseError("PostgreSQL binaries not found: install the pgserver wheel (pip install pgserver==0.1.4)")


def _shared_copy(install: Path, user: ServiceUser, cache: Path) -> Path:
    """``install`` (``.../pgserver/pginstall``: bin, lib, share) copied to ``cache``, owned by us, readable by all,
    with the wheel's bundled libraries beside it (the binaries find them at ``$ORIGIN/../../../pgserver.libs``);
    reused while the source is unchanged (the name carries the source's path, the postgres binary's size and
    mtime). Returns the copied ``pginstall`` folder."""
    postgres = (install / "bin" / "postgres").stat()
    key = hashlib.sha256(f"{install}:{postgres.st_size}:{postgres.st_mtime_ns}".encode()).hexdigest()[:16]
    dest = cache / f"aftershock-pginstall-{os.geteuid()}-{key}"
    if not dest.exists():
        build = Path(tempfile.mkdtemp(prefix=".aftershock-pginstall-", dir=cache))
        try:
            for part in ("bin", "lib", "share"):
                shutil.copytree(install / part, build / "pgserver" / "pginstall" / part, symlinks=True)
            libs = install.parent.parent / "pgserver.libs"
            if libs.is_dir():
                shutil.copytree(libs, build / "pgserver.libs", symlinks=True)
            os.chmod(build, 0o755)  # mkdtemp makes it 0700
            with contextlib.suppress(OSError):  # another lab made it at the same time: use theirs
                build.rename(dest)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    st = dest.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise DatabaseError(f"{dest} is not a folder owned by uid {os.geteuid()} and writable only by it: "
                            f"remove it (PostgreSQL binaries for user {user.name} are copied there)")
    copied = dest / "pgserver" / "pginstall"
    if not reachable(copied / "bin", user):
        raise DatabaseError(f"user {user.name} cannot reach {dest}: make {cache} and its parents traversable (o+x)")
    return copied
