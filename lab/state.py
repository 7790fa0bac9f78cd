"""The running lab's state file (``lab.json``): who runs it and where its control API listens."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "lab.json"


@dataclass(frozen=True)
class LabState:
    pid: int
    control_url: str
    front_door_url: str
    started_at: float
    ready_at: float | None = None


def write_state(lab_dir: Path, state: LabState) -> None:
    tmp = lab_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(lab_dir / STATE_FILE)


def read_state(lab_dir: Path) -> LabState | None:
    """The state of the lab in ``lab_dir``, or None when no lab was started there."""
    path = lab_dir / STATE_FILE
    try:
        return LabState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def clear_state(lab_dir: Path) -> None:
    (lab_dir / STATE_FILE).unlink(missing_ok=True)
