"""The run folder's disk fills up while a fault is injected on the lab (a small tmpfs, filled by the test): the run
stops the load, reverts the fault from the journal it keeps in memory and exits 2 with the reason."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.labkit import RunningLab, processes_mentioning, write_short_az_outage

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs (root only), unmounted afterwards."""
    mount_point = tmp_path / "tmpfs"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, timeout=30)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=30)


def fill(disk: Path) -> None:
    """Write zeros into ``disk`` until it is full."""
    chunk = b"\0" * (1 << 20)
    with (disk / "filler").open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def test_a_disk_that_fills_during_the_fault_reverts_it_and_exits_2(lab: RunningLab, tmp_path: Path,
                                                                   small_disk: Path) -> None:
    lab.wait_healthy()
    out = small_disk / "runs"
    experiment = write_short_az_outage(tmp_path / "az-outage-short.yaml")
    proc = subprocess.Popen([sys.executable, "-m", "aftershock", "run", str(experiment), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "400"})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(
                '"kind":"fault.end"' in m.read_text() for m in out.glob("*/markers.jsonl")):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        fill(small_disk)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    [run] = out.iterdir()
    assert proc.returncode == 2, stdout + stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: the run folder {run} stopped taking writes (No space left on device writing "), \
        stderr
    assert line.endswith("): the load was stopped and every injected fault reverted; free space or make it "
                         "writable before the next run"), stderr
    assert "Traceback" not in stderr, stderr
    status = lab.wait_healthy(timeout=90)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    deadline = time.monotonic() + 15
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(out)) == [], "the load generator of the run is still running"
