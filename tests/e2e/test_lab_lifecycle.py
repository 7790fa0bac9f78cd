"""Starting and stopping the lab: one at a time, nothing left behind, children die with the supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aftershock.core.procs import descendants, pid_alive, wait_until
from aftershock.lab.state import read_state

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSHOCK_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_up_twice_is_refused_and_down_leaves_no_process(tmp_path: Path) -> None:
    first = cli(tmp_path, "lab", "up", "--detach")
    assert first.returncode == 0, first.stderr
    state = read_state(tmp_path / "lab")
    assert state is not None
    try:
        assert httpx.get(state.front_door_url + "/api/products/1", timeout=5).status_code == 200
        children = descendants(state.pid)
        assert len(children) >= 5  # envoy, 3 postgres, pods
        second = cli(tmp_path, "lab", "up", "--detach")
        assert second.returncode == 2
        assert second.stderr.strip().startswith(f"error: a lab is already running (pid {state.pid}")
        status = cli(tmp_path, "lab", "status")
        assert status.returncode == 0 and "us-east-1" in status.stdout
        refused = cli(tmp_path, "lab", "dial", "us-east-1", "101")
        assert refused.returncode == 2
        assert refused.stderr.strip() == "error: traffic dial for us-east-1 must be an integer 0-100, got 101"
        refused = cli(tmp_path, "lab", "az-restore", "us-east-1b")
        assert refused.returncode == 2
        assert refused.stderr.strip() == "error: AZ us-east-1b is not down: nothing to restore"
    finally:
        down = cli(tmp_path, "lab", "down")
    assert down.returncode == 0 and "lab down" in down.stdout
    assert wait_until(lambda: not any(pid_alive(pid) for pid in children), timeout=10)


def test_killed_supervisor_takes_its_children_with_it(tmp_path: Path) -> None:
    assert cli(tmp_path, "lab", "up", "--detach").returncode == 0
    state = read_state(tmp_path / "lab")
    assert state is not None
    children = descendants(state.pid)
    assert children
    os.kill(state.pid, signal.SIGKILL)
    gone = wait_until(lambda: not any(pid_alive(pid) for pid in children), timeout=15)
    assert gone, f"left behind: {[p for p in children if pid_alive(p)]}"
    assert cli(tmp_path, "lab", "down").returncode == 0  # cleans the stale state
    time.sleep(0.1)
