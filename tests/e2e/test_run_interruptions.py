"""Ctrl-C and SIGTERM at each step of a run: the fault is always rolled back and the lab is left healthy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from tests.labkit import RunningLab

pytestmark = pytest.mark.slow
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "az-outage.yaml"


def wait_for_marker(out: Path, kind: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in out.glob("*"):
            markers = run / "markers.jsonl"
            if markers.exists() and f'"kind":"{kind}"' in markers.read_text():
                return run
        time.sleep(0.05)
    raise AssertionError(f"no {kind} marker within {timeout} s")


@pytest.mark.parametrize(("sig", "when"), [
    (signal.SIGINT, "load.warm"),
    (signal.SIGINT, "fault.end"),
    (signal.SIGTERM, "fault.end"),
    (signal.SIGTERM, "rollbacks.start"),
], ids=["ctrl-c-before-fault", "ctrl-c-after-fault", "sigterm-after-fault", "sigterm-during-rollback"])
def test_interrupted_run_rolls_back_and_leaves_the_lab_healthy(lab: RunningLab, tmp_path: Path, sig: int,
                                                               when: str) -> None:
    lab.wait_healthy()
    proc = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(EXPERIMENT), "--out", str(tmp_path),
                             "--users", "5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        run = wait_for_marker(tmp_path, when)
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, output.decode(errors="replace")
    assert not outstanding(RunFolder(run)), "every injected fault must be reverted"
    status = lab.wait_healthy(timeout=60)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    summary = json.loads((run / "summary.json").read_text())
    assert summary["passed"] is False
