"""The lab as a normal (non-root) user: PostgreSQL, Envoy and the pods run as that user, faults work,
`lab down` leaves nothing.

The venv's interpreter may live where an unprivileged user cannot read it (pyenv under /root), so the test runs
the system's Python of the same minor version on the venv's site-packages (same ABI: cp311 wheels).
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

from aftershock.core.procs import descendants, wait_until
from aftershock.lab.state import pid_alive

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")


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
    try:
        _run_lab_as(user, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_lab_as(user: pwd.struct_passwd, home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "AFTERSHOCK_HOME": str(home), "COLUMNS": "200",
           "PYTHONPATH": f"{sysconfig.get_paths()['purelib']}:{REPO}"}

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
