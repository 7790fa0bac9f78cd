"""Where aftershock keeps its state: ``$AFTERSHOCK_HOME`` (default ``~/.aftershock``)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The state folder; tests point ``AFTERSHOCK_HOME`` at a temporary folder."""
    return Path(os.environ.get("AFTERSHOCK_HOME") or Path.home() / ".aftershock").resolve()


def lab_dir() -> Path:
    """The running lab's folder: its target description, event log, logs and state."""
    return home() / "lab"


def lab_target_file() -> Path:
    return lab_dir() / "target.yaml"
