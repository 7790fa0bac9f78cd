"""Where the PostgreSQL binaries are: the ``pgserver`` wheel's ``pginstall/bin``.

The package is located, never imported: importing ``pgserver`` creates runtime folders.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from aftershock.core.errors import DatabaseError


@dataclass(frozen=True)
class PgBinaries:
    """The PostgreSQL tools of one installation and its version (``"16.2"``)."""

    bin_dir: Path
    version: str

    def tool(self, name: str) -> str:
        """Absolute path of one tool (``postgres``, ``initdb``, ``pg_basebackup``, ...)."""
        return str(self.bin_dir / name)


def _candidate_dirs() -> list[Path]:
    found: list[Path] = []
    spec = importlib.util.find_spec("pgserver")  # a top-level find_spec does not execute the package
    if spec is not None and spec.submodule_search_locations:
        found.extend(Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations)
    found.append(Path(sysconfig.get_paths()["purelib"]) / "pgserver" / "pginstall" / "bin")
    return found


@functools.cache
def find_binaries() -> PgBinaries:
    """The pgserver wheel's PostgreSQL binaries; raises DatabaseError when the wheel is missing."""
    for bin_dir in _candidate_dirs():
        postgres = bin_dir / "postgres"
        if postgres.is_file():
            out = subprocess.run(
                [str(postgres), "--version"], capture_output=True, text=True, check=True, timeout=10
            ).stdout
            match = re.search(r"(\d+(?:\.\d+)?)", out)
            return PgBinaries(bin_dir=bin_dir, version=match.group(1) if match else "unknown")
    raise DatabaseError("PostgreSQL binaries not found: install the pgserver wheel (pip install pgserver==0.1.4)")
