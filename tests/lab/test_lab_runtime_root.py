"""Dead labs' runtime folders on tmpfs are removed by the next lab; live ones and other users' stay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aftershock.lab.runtime_root import remove_dead_roots


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f"aftershock-{_dead_pid()}"
    (dead / "db" / "node").mkdir(parents=True)
    (dead / "db" / "node" / "data").write_bytes(b"x" * 1024)
    alive = tmp_path / f"aftershock-{os.getpid()}"
    alive.mkdir()
    cache = tmp_path / "aftershock-pgcache-0"  # not a lab's runtime folder
    cache.mkdir()
    other = tmp_path / "aftershock-notes"
    other.mkdir()
    assert remove_dead_roots(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, cache.name, other.name])
