"""The identity ledger's record in the run folder (``ledger-identity.jsonl``), read back: the source of truth of
which test users a run signed up, whether the ledger was started and whether it ended.

The writer appends one line per event and flushes it; a run killed mid-line leaves a torn last line, skipped here.
Passwords and tokens are never in the file: what needs them (sign-in with the old password, session replay) is
possible only in the process that signed the users up.

Example::

    record = read_identity_record(run_dir)
    record.started, record.ended, record.user_prefix   # True, False, "aftershock-test-r1-"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.probes.identity.ledger import LEDGER_FILE, SignUp

__all__ = ["IdentityRecord", "read_identity_record"]


@dataclass(frozen=True)
class IdentityRecord:
    """What the run folder says of a run's identity ledger (``started`` False: it never started)."""

    run_id: str = ""
    region: str = ""
    prefix: str = ""
    migration: str = ""
    started_at: float | None = None
    signups: tuple[SignUp, ...] = ()
    sessions: tuple[tuple[int, float], ...] = ()
    """(seq, issued_at) of every session the primary issued."""
    ended: bool = False
    failure: str | None = None

    @property
    def started(self) -> bool:
        return bool(self.run_id)

    @property
    def user_prefix(self) -> str:
        """Every test user of this run starts with it (``<test_user_prefix>-<run>-``)."""
        return f"{self.prefix}-{self.run_id}-"

    @property
    def acknowledged(self) -> list[SignUp]:
        return [s for s in self.signups if s.acked_at is not None]


def _lines(path: Path) -> list[dict[str, Any]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:  # a torn last line of a killed run
            continue
        if isinstance(data, dict):
            found.append(data)
    return found


def read_identity_record(run_dir: Path) -> IdentityRecord:
    """The record of ``run_dir``'s identity ledger (an empty record when the ledger never started)."""
    path = Path(run_dir) / LEDGER_FILE
    if not path.exists():
        return IdentityRecord()
    meta: dict[str, Any] = {}
    signups: list[SignUp] = []
    sessions: list[tuple[int, float]] = []
    end: dict[str, Any] | None = None
    for data in _lines(path):
        kind = data.get("kind")
        if kind == "meta" and not meta:
            meta = data
        elif kind == "signup":
            signups.append(SignUp(int(data["seq"]), str(data["user"]), float(data["sent_at"]),
                                  None if data.get("acked_at") is None else float(data["acked_at"]),
                                  data.get("error")))
        elif kind == "session" and data.get("issued_at") is not None:
            sessions.append((int(data["seq"]), float(data["issued_at"])))
        elif kind == "end":
            end = data
    return IdentityRecord(run_id=str(meta.get("run_id") or ""), region=str(meta.get("region") or ""),
                          prefix=str(meta.get("prefix") or ""), migration=str(meta.get("migration") or ""),
                          started_at=meta.get("started_at"), signups=tuple(signups), sessions=tuple(sessions),
                          ended=end is not None, failure=None if end is None else end.get("failure"))
