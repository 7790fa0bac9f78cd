"""A JSON-lines file read incrementally: each :meth:`JsonlTail.read` returns only the complete lines added since.

A half-written last line waits for the next read; a file that shrank or was replaced reads again from the start
(``reset`` tells the caller to drop what it kept). Lines that are not JSON objects are skipped (display only).

Example::

    tail = JsonlTail(run_dir / "markers.jsonl")
    new, reset = tail.read()
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class JsonlTail:
    """Follows one JSON-lines file by byte offset."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._inode: int | None = None

    def __repr__(self) -> str:
        return f"JsonlTail({str(self.path)!r}, offset={self.offset})"

    def read(self) -> tuple[list[dict[str, Any]], bool]:
        """The records completed since the last read, and whether the file started over (replaced, truncated)."""
        try:
            with open(self.path, "rb") as file:
                stat = os.fstat(file.fileno())
                reset = self._inode is not None and (stat.st_ino != self._inode or stat.st_size < self.offset)
                if reset:
                    self.offset = 0
                self._inode = stat.st_ino
                if stat.st_size == self.offset:
                    return [], reset
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return [], False
        end = data.rfind(b"\n")
        if end < 0:
            return [], reset
        self.offset += end + 1
        records = []
        for line in data[: end + 1].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records, reset


__all__ = ["JsonlTail"]
