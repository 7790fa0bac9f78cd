"""PostgreSQL binaries reachable by the account PostgreSQL runs as, even from a private (0700) checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftershock.core.errors import DatabaseError
from aftershock.core.procs import service_user
from aftershock.lab.db.binaries import _shared_copy, find_binaries
from aftershock.lab.db.layout import reachable

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")


@pytest.fixture
def private_install(tmp_path: Path) -> Path:
    """The pgserver installation copied into a 0700 folder, as in a clone under /root or mktemp -d."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    site = private / "venv" / "site-packages"
    source = find_binaries().bin_dir.parent
    shutil.copytree(source.parent.parent / "pgserver.libs", site / "pgserver.libs", symlinks=True)
    for part in ("bin", "lib", "share"):
        shutil.copytree(source / part, site / "pgserver" / "pginstall" / part, symlinks=True)
    return site / "pgserver" / "pginstall"


@pytest.fixture
def cache() -> Iterator[Path]:
    """A world-traversable cache folder (pytest's own temporary folders are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="aftershock-test-cache-", dir="/var/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder)


def test_a_private_install_is_copied_where_nobody_can_run_it(private_install: Path, cache: Path) -> None:
    user = service_user()
    assert not reachable(private_install / "bin", user)
    copy = _shared_copy(private_install, user, cache)
    assert copy.parents[1].parent == cache and reachable(copy / "bin", user)
    version = subprocess.run([str(copy / "bin" / "postgres"), "--version"], user=user.uid, group=user.gid,
                             extra_groups=[], capture_output=True, text=True, timeout=10, check=True).stdout
    assert version.startswith("postgres (PostgreSQL) 16")
    libpq = subprocess.run([str(copy / "bin" / "pg_basebackup"), "--version"], user=user.uid, group=user.gid,
                           extra_groups=[], capture_output=True, text=True, timeout=10, check=False)
    assert libpq.returncode == 0, libpq.stderr  # the bundled libraries were found beside the copy
    assert _shared_copy(private_install, user, cache) == copy  # reused, not copied again
    assert [p.name for p in cache.iterdir()] == [copy.parents[1].name]  # no build folder left behind


def test_a_cache_folder_others_can_write_is_refused(private_install: Path, cache: Path) -> None:
    user = service_user()
    copy = _shared_copy(private_install, user, cache)
    os.chmod(copy.parents[1], 0o777)
    with pytest.raises(DatabaseError) as info:
        _shared_copy(private_install, user, cache)
    assert str(info.value) == (f"{copy.parents[1]} is not a folder owned by uid 0 and writable only by it: remove it "
                               "(PostgreSQL binaries for user nobody are copied there)")
