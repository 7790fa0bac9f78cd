"""The lab as root from a private clone (issue 14, item 1): the project and its PostgreSQL binaries live in a
0700 folder that ``nobody`` (PostgreSQL's account under root) cannot traverse, as in CI containers (``/root`` is
0700 too). ``lab up`` copies the binaries to a root-owned cache under /var/tmp and the lab comes up.

The clone is made with ``git clone`` (committed files only); the pgserver wheel (package and its bundled
``pgserver.libs``) is copied into the clone's ``.deps`` so the binaries really live inside the private folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.labkit import processes_mentioning

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="runs the lab as root (PostgreSQL then runs as nobody)"),
              pytest.mark.skipif(shutil.which("git") is None, reason="needs git to clone the project")]
REPO = Path(__file__).resolve().parents[2]
SITE = Path(sysconfig.get_paths()["purelib"])
CACHE = Path("/var/tmp")


def _caches() -> set[Path]:
    return set(CACHE.glob("aftershock-pginstall-*"))


@pytest.fixture
def private_clone() -> Iterator[Path]:
    """The project cloned into a fresh 0700 folder, with the pgserver wheel inside it."""
    parent = Path(tempfile.mkdtemp(prefix="aftershock-private-"))
    caches = _caches()
    try:
        assert parent.stat().st_mode & 0o777 == 0o700
        clone = parent / "aftershock"
        subprocess.run(["git", "-c", "safe.directory=*", "clone", "--quiet", str(REPO), str(clone)], check=True,
                       timeout=120, capture_output=True)
        deps = clone / ".deps"
        for name in ("pgserver", "pgserver.libs"):
            if (SITE / name).exists():
                shutil.copytree(SITE / name, deps / name, symlinks=True)
        yield clone
    finally:
        shutil.rmtree(parent, ignore_errors=True)
        for made in _caches() - caches:  # the binaries copied for this clone
            shutil.rmtree(made, ignore_errors=True)


def test_lab_runs_as_root_from_a_private_clone(private_clone: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    workdir = tmp_path / "elsewhere"  # not the checkout: nothing may rely on the working directory
    workdir.mkdir()
    env = {**os.environ, "AFTERSHOCK_HOME": str(home), "COLUMNS": "200",
           "PYTHONPATH": f"{private_clone}:{private_clone / '.deps'}"}

    def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True,
                              env=env, cwd=workdir, timeout=timeout)

    where = subprocess.run([sys.executable, "-c", "import aftershock, importlib.util; "
                            "print(aftershock.__file__); print(importlib.util.find_spec('pgserver').origin)"],
                           capture_output=True, text=True, env=env, cwd=workdir, timeout=60, check=True)
    assert all(line.startswith(str(private_clone)) for line in where.stdout.split()), where.stdout
    caches = _caches()
    up = cli("lab", "up", "--detach")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert _caches() - caches, "the binaries were copied to a cache nobody can reach"
        status = json.loads(cli("lab", "status", "--json").stdout)
        assert status["database"]["writer"], status
        assert httpx.get(json.loads((home / "lab" / "lab.json").read_text())["front_door_url"] + "/api/products/1",
                         timeout=5).status_code == 200
        shown = cli("lab", "status")
        assert shown.returncode == 0 and status["database"]["writer"] in shown.stdout
    finally:
        down = cli("lab", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (processes_mentioning(str(private_clone)) or
                                           processes_mentioning(str(home))):
        time.sleep(0.2)
    assert processes_mentioning(str(private_clone)) == [] and processes_mentioning(str(home)) == []
