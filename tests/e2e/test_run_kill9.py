"""``aftershock run`` killed with SIGKILL at every step (issue 14 item 6): no process of the run is left, `aftershock
recover RUN` brings the lab back to its baseline and `aftershock report RUN` renders the run as PARTIAL.

One lab for the whole matrix (the module-scoped ``lab`` fixture) and a short experiment at 3 users: the phases are
detected from the run folder's ``markers.jsonl``, the harness is killed the moment its marker appears.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from aftershock.faults.reverts import journal_intent
from tests.labkit import RunningLab, processes_mentioning, write_short_az_outage

pytestmark = pytest.mark.slow
BASELINE_DIALS = {"us-east-1": 100, "us-west-2": 0}

PHASES = {  # the marker the harness is killed at
    "load-started": '"kind":"load.started"',
    "hypothesis": '"kind":"hypothesis.start"',
    "fault-applied": '"kind":"fault.end"',
    "rto-probe": '"kind":"activity.start","name":"rto"',
    "rollback": '"kind":"rollbacks.start"',
}


@pytest.fixture(scope="module")
def short_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_short_az_outage(tmp_path_factory.mktemp("kill9") / "az-outage-short.yaml")


def aftershock(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=timeout)


def kill_at(marker: str, experiment: Path, out: Path, timeout: float = 90) -> Path:
    """Start ``aftershock run``, SIGKILL it as soon as ``marker`` is in its markers.jsonl; the run folder."""
    proc = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(experiment), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            for markers in out.glob("*/markers.jsonl"):
                if marker in markers.read_text():
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=10)
                    return markers.parent
            time.sleep(0.02)
        raise AssertionError(f"no {marker} marker within {timeout} s (exit code {proc.poll()})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def no_process_left(out: Path, timeout: float = 15) -> list[int]:
    """Locust (master and workers) die with the harness (they get SIGTERM when it dies, then flush and quit)."""
    deadline = time.monotonic() + timeout
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_mentioning(str(out))


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_run_killed_with_sigkill_is_recovered_and_reported_partial(lab: RunningLab, short_experiment: Path,
                                                                    tmp_path: Path, phase: str) -> None:
    lab.wait_healthy()
    run = kill_at(PHASES[phase], short_experiment, tmp_path / "runs")

    assert no_process_left(tmp_path) == [], "Locust, ledger or sampler of the killed run is still running"

    recovered = aftershock("recover", str(run))
    assert recovered.returncode == 0, recovered.stderr
    assert not outstanding(RunFolder(run)), "recover must revert every fault the killed run injected"
    status = lab.wait_healthy(timeout=90)
    assert status["azs_down"] == [] and status["dials"] == BASELINE_DIALS

    report = aftershock("report", str(run), "--no-history")
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[0].startswith("PARTIAL "), report.stdout
    assert (run / "report.html").exists() and (run / "report.md").exists()
    if phase != "load-started":  # traffic reached the timeline before the kill: the report shows it
        assert (run / "timeline.jsonl").stat().st_size > 0


def test_a_fault_the_lab_applied_but_nobody_journaled_is_recovered(lab: RunningLab, short_experiment: Path,
                                                                   tmp_path: Path) -> None:
    """The SIGKILL window between the lab applying a fault and the fault's journal line, made exact: a run killed
    before its faults, then what the fault action does before the call (its in-flight entry) and the lab call
    itself, and no journal line. `aftershock recover` returns the lab to its baseline."""
    lab.wait_healthy()
    run = kill_at(PHASES["hypothesis"], short_experiment, tmp_path / "runs")
    assert no_process_left(tmp_path) == []
    journal_intent(RunFolder(run), "az_outage")
    lab.fault("faults/az-outage", az="us-east-1b")
    lab.fault("faults/traffic-dial", region="us-west-2", dial=40)
    assert lab.status()["azs_down"] == ["us-east-1b"]

    recovered = aftershock("recover", str(run))
    assert recovered.returncode == 0, recovered.stderr
    assert "AZ us-east-1b is back" in recovered.stdout and "us-west-2: 40 -> 0" in recovered.stdout
    assert not outstanding(RunFolder(run))
    status = lab.wait_healthy(timeout=90)
    assert status["azs_down"] == [] and status["dials"] == BASELINE_DIALS
