"""End to end: a game day driven in a terminal (a pty) against the real lab: go, abort during the fault with the
abort key, continue, skip; the fault is rolled back, the lab is healthy and the report records the abort."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.runfolder import RunFolder
from tests.labkit import RunningLab, processes_mentioning

pytestmark = pytest.mark.slow
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    """A command in a pseudo-terminal (its controlling terminal, 120x40): ``expect`` output, ``send`` keys."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

        def controlling_tty() -> None:  # pragma: no cover - runs in the child
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=controlling_tty)
        os.close(slave)
        self.output = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO once the child side is closed
                return
            if not data:
                return
            with self._lock:
                self.output += data

    @property
    def text(self) -> str:
        with self._lock:
            return ANSI.sub("", self.output.decode(errors="replace"))

    def expect(self, text: str, timeout: float, *, after: int = 0) -> int:
        """Wait until ``text`` appears (after position ``after``); the position just past it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.text.find(text, after)
            if found >= 0:
                return found + len(text)
            if self.proc.poll() is not None:
                time.sleep(0.2)
                found = self.text.find(text, after)
                if found >= 0:
                    return found + len(text)
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear within {timeout} s; output so far:\n{self.text[-3000:]}")

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        """Stop the game day if it still runs (SIGTERM: it rolls back and stops), kill only as the last resort."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)
        self._reader.join(timeout=5)


def wait_for_marker(steps: Path, kind: str, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for markers in steps.glob("*/steps/*/markers.jsonl"):
            if f'"kind":"{kind}"' in markers.read_text():
                return markers.parent
        time.sleep(0.05)
    raise AssertionError(f"no {kind} marker in {steps} within {timeout} s")


PLAN = """\
title: Terminal chaos day
notes: The test is the operator.
steps:
  - experiment: az-outage
    title: Lose the writer's AZ
    users: 3
    notes: Watch the writer move.
  - experiment: pod-kill
    users: 3
    notes: Skipped by the operator.
"""


@pytest.mark.timeout(150)
def test_abort_key_rolls_back_and_the_report_records_it(lab: RunningLab, tmp_path: Path) -> None:
    lab.wait_healthy()
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    out = tmp_path / "days"
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    term = Terminal([sys.executable, "-m", "aftershock.cli.gameday", "gameday", str(plan), "--out", str(out)], env)
    try:
        pos = term.expect("what will be done:", timeout=30)
        pos = term.expect("go / skip / stop?", timeout=10, after=pos)
        assert "Watch the writer move." in term.text
        assert "aftershock.faults.actions.az_outage" in term.text
        term.send("go\r")
        run = wait_for_marker(out, "fault.start", timeout=40)
        term.send("a")
        pos = term.expect("ABORT (abort key)", timeout=10, after=pos)
        pos = term.expect("continue with the next step?", timeout=60, after=pos)
        term.send("yes\r")
        pos = term.expect("go / skip / stop?", timeout=20, after=pos)
        term.send("skip\r")
        term.expect("game-day report:", timeout=20, after=pos)
        assert term.proc.wait(timeout=20) == 1, term.text[-3000:]
    finally:
        term.close()
    assert time.monotonic() - started < 90

    assert outstanding(RunFolder(run)) == [], "the aborted step's fault must be rolled back"
    status = lab.wait_healthy(timeout=60)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"

    (day,) = out.glob("*-gameday-*")
    record = json.loads((day / "gameday.json").read_text())
    first, second = record["steps"]
    assert first["status"] == "aborted" and first["abort"]["by"] == "abort key"
    assert first["abort"]["rolled_back"] is True and first["abort"]["killed"] is False
    assert first["run_folder"] == f"steps/{run.name}"
    assert second["status"] == "skipped"
    report = (day / "gameday.md").read_text()
    assert "- status: **aborted**: aborted by operator (abort key) at " in report
    assert "fault rolled back" in report
    assert f"[steps/{run.name}/report.html](steps/{run.name}/report.html)" in report
    assert "aborted by operator (abort key)" in (day / "gameday.html").read_text()
    assert processes_mentioning(str(out)) == [], "no process of the game day may be left behind"


@pytest.mark.timeout(150)
def test_ctrl_c_twice_waits_for_the_rollback_and_leaves_nothing_behind(lab: RunningLab, tmp_path: Path) -> None:
    lab.wait_healthy()
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: Unattended\nsteps:\n  - experiment: az-outage\n    users: 3\n")
    out = tmp_path / "days"
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    term = Terminal([sys.executable, "-m", "aftershock.cli.gameday", "gameday", str(plan), "--yes", "--out",
                     str(out)], env)
    try:
        run = wait_for_marker(out, "fault.end", timeout=40)
        term.send("\x03")
        pos = term.expect("ABORT (Ctrl-C)", timeout=10)
        term.send("\x03")
        term.expect("still rolling back", timeout=10, after=pos)
        assert term.proc.wait(timeout=60) == 1, term.text[-3000:]
    finally:
        term.close()
    assert time.monotonic() - started < 90
    assert outstanding(RunFolder(run)) == []
    status = lab.wait_healthy(timeout=60)
    assert status["azs_down"] == [] and status["dials"] == {"us-east-1": 100, "us-west-2": 0}
    (day,) = out.glob("*-gameday-*")
    (step,) = json.loads((day / "gameday.json").read_text())["steps"]
    assert step["status"] == "aborted" and step["abort"]["by"] == "Ctrl-C" and step["abort"]["rolled_back"] is True
    assert "aborted by operator (Ctrl-C)" in (day / "gameday.md").read_text()
    assert processes_mentioning(str(out)) == []
