"""Two runs at once on the real lab: the second exits 2 naming the first and injects nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aftershock.core.runlock import FileLock
from tests.e2e.test_run_interruptions import wait_for_marker
from tests.labkit import RunningLab

pytestmark = pytest.mark.slow
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "pod-kill.yaml"


def test_a_second_run_on_the_lab_exits_2_naming_the_first(lab: RunningLab, tmp_path: Path) -> None:
    lab.wait_healthy()
    env = {**os.environ, "COLUMNS": "400"}
    first = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(EXPERIMENT), "--out",
                              str(tmp_path / "first"), "--users", "3"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_marker(tmp_path / "first", "load.warm")
        holder = FileLock(lab.lab_dir / "run.lock", target="lab").holder()
        assert holder is not None and holder.pid == first.pid
        second = subprocess.run([sys.executable, "-m", "aftershock", "run", str(EXPERIMENT), "--out",
                                 str(tmp_path / "second"), "--users", "3"], capture_output=True, text=True, env=env,
                                timeout=120)
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip() == (f"error: target 'lab' is locked by {holder.describe()}: wait for that run "
                                         "to finish, or pass --force-unlock if it is dead")
        assert not (tmp_path / "second").exists(), "the second run must not even start its load"
        first.send_signal(signal.SIGINT)  # the first run rolls back and ends
        first.communicate(timeout=240)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert FileLock(lab.lab_dir / "run.lock", target="lab").holder() is None
    lab.wait_healthy(timeout=60)
