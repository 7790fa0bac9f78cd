"""A run-folder disk that fills up on demand (plugged in as ``RunFolder.disk``), for the disk-trouble tests.

Imported as ``from tests.diskkit import FillingDisk``.
"""

from __future__ import annotations

import errno
from pathlib import Path

from aftershock.core.runfolder import Disk


class FillingDisk(Disk):
    """Writes like the real disk until :meth:`fill` is called, then fails every write like a full disk."""

    def __init__(self) -> None:
        self.full = False

    def fill(self) -> None:
        self.full = True

    def _check(self) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")

    def append(self, path: Path, data: bytes) -> None:
        self._check()
        super().append(path, data)

    def create(self, path: Path) -> bool:
        self._check()
        return super().create(path)

    def replace(self, path: Path, text: str) -> None:
        self._check()
        super().replace(path, text)
