"""The lab as a normal (non-root) user: PostgreSQL, Envoy and the pods run as that user, faults work,
`lab down` leaves nothing.

The venv's interpreter may live where an unprivileged user cannot read it (pyenv under /root), so the test runs
the system's Python of the same minor version on the venv's site-packages (same ABI: cp311 wheels). When the
checkout itself is private (a clone in a 0700 folder, as CI does), the user gets a linked copy of the package and
of site-packages under /var/tmp instead.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from aftershock.core.procs import ServiceUser, descendants, pid_alive, wait_until
from aftershock.lab.db.layout import reachable

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
PACKAGE_FOLDERS = ("aftershock", "core", "lab", "faults", "probes", "reports", "loadtests", "experiments")


def _normal_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to a normal user (as a normal user, every "
                                              "other lab test already runs unprivileged)")
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason=f"no {SYSTEM_PYTHON} a normal user can run")
@pytest.mark.skipif(_normal_user() is None, reason="no 'nobody' user")
def test_lab_runs_as_a_normal_user() -> None:
    user = _normal_user()
    assert user is not None
    home = Path(tempfile.mkdtemp(prefix="aftershock-user-"))  # pytest's tmp_path is private to root
    os.chown(home, user.pw_uid, user.pw_gid)
    copies = Path(tempfile.mkdtemp(prefix="aftershock-user-code-", dir="/var/tmp"))
    try:
        _run_lab_as(user, home, _python_path(user, copies))
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(copies, ignore_errors=True)


def _python_path(user: pwd.struct_passwd, copies: Path) -> str:
    """site-packages and the checkout, where ``user`` can read them: as they are, or linked copies in ``copies``."""
    site = Path(sysconfig.get_paths()["purelib"])
    account = ServiceUser(user.pw_name, user.pw_uid, user.pw_gid)
    if reachable(site, account) and reachable(REPO, account):
        return f"{site}:{REPO}"
    os.chmod(copies, 0o755)
    _link_copy(site, copies / "site-packages")
    for folder in PACKAGE_FOLDERS:
        _link_copy(REPO / folder, copies / "repo" / folder)
    return f"{copies / 'site-packages'}:{copies / 'repo'}"


def _link_copy(source: Path, dest: Path) -> None:
    """A copy of ``source`` whose files are hard links when the file system allows (fast, no space)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["cp", "-al", str(source), str(dest)], capture_output=True, check=False).returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        subprocess.run(["cp", "-a", str(source), str(dest)], capture_output=True, check=True)


def _run_lab_as(user: pwd.struct_passwd, home: Path, python_path: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "AFTERSHOCK_HOME": str(home), "COLUMNS": "200",
           "PYTHONPATH": python_path}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SYSTEM_PYTHON), "-m", "aftershock", *args], capture_output=True, text=True,
                              env=env, cwd=home, timeout=120, user=user.pw_uid, group=user.pw_gid,
                              extra_groups=[])

    up = cli("lab", "up", "--detach")
    assert up.returncode == 0, up.stdout + up.stderr
    state = json.loads((home / "lab" / "lab.json").read_text())
    children: list[int] = []
    try:
        children = descendants(state["pid"])
        owners = {Path(f"/proc/{pid}").stat().st_uid for pid in [state["pid"], *children] if pid_alive(pid)}
        assert owners == {user.pw_uid}, "every process of the lab runs as the normal user"
        assert httpx.get(state["front_door_url"] + "/api/products/1", timeout=5).status_code == 200
        assert cli("lab", "crash-writer").returncode == 0
        deadline = time.monotonic() + 30
        writer = None
        while time.monotonic() < deadline and writer != "shop-east-b":
            status = json.loads(cli("lab", "status", "--json").stdout)
            writer = status["database"]["writer"]
            time.sleep(0.3)
        assert writer == "shop-east-b", "the in-region reader was promoted"
    finally:
        down = cli("lab", "down")
    assert down.returncode == 0
    assert wait_until(lambda: not any(pid_alive(pid) for pid in children), timeout=15)
