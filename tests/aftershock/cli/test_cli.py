"""The CLI surface: help, version, and one-line errors with exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aftershock import __version__


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSHOCK_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_version_and_help(tmp_path: Path) -> None:
    assert run_cli("--version", home=tmp_path).stdout.strip() == f"aftershock, version {__version__}"
    help_text = run_cli("lab", "--help", home=tmp_path).stdout
    for command in ("up", "down", "status", "kill-pods", "az-outage", "crash-writer", "dial", "cut-replication"):
        assert command in help_text


def test_status_without_a_lab_says_how_to_start_one(tmp_path: Path) -> None:
    result = run_cli("lab", "status", home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: no lab is running: start it with `aftershock lab up --detach`"


def test_down_without_a_lab_is_harmless(tmp_path: Path) -> None:
    result = run_cli("lab", "down", home=tmp_path)
    assert result.returncode == 0 and "no lab was running" in result.stdout
