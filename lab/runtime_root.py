"""The lab's runtime folder on tmpfs (PostgreSQL data and sockets), and the clean-up of dead labs' folders.

A lab removes its folder when it stops; a supervisor killed with SIGKILL cannot. Each such folder holds a
whole database fleet (~180 MiB), and ``/dev/shm`` is memory: a new lab removes the folders of labs whose
supervisor is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "aftershock-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_dead_roots(base: Path) -> list[Path]:
    """Remove ``base/aftershock-<pid>`` folders owned by this user whose process is gone; the removed ones."""
    removed = []
    for folder in base.glob(f"{PREFIX}[0-9]*"):
        suffix = folder.name[len(PREFIX):]
        if not suffix.isdigit() or _alive(int(suffix)):
            continue
        try:
            if folder.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def runtime_root() -> Path:
    """A short folder on tmpfs that an unprivileged PostgreSQL user can reach (not under /root), for this
    process; dead labs' folders next to it are removed first."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    remove_dead_roots(base)
    root = base / f"{PREFIX}{os.getpid()}"
    root.mkdir(mode=0o755, exist_ok=True)
    return root


__all__ = ["remove_dead_roots", "runtime_root"]
