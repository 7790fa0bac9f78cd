"""Atomic file writes: Envoy reloads a watched file when one is *moved* onto it, never half-written."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, document: Any) -> None:
    """Write ``document`` as JSON to a temp file beside ``path``, then rename it onto ``path``.

    No fsync: Envoy reads the page cache, and the files are rebuilt from memory after a crash anyway.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=1)
        os.replace(tmp, path)  # same directory, same filesystem: an atomic rename (IN_MOVED_TO for Envoy)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
