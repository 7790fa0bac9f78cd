"""What a fault did and how to undo it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aftershock.core.journal import RevertCall

__all__ = ["FaultOutcome", "RevertCall"]


@dataclass(frozen=True)
class FaultOutcome:
    """A fault as injected: a one-line description, details, and the calls that revert it, in order
    (empty: it heals by itself, like a killed pod or a crashed writer). ``in_flight_id``: the journal entry the
    driver kept while injecting, superseded by the fault's own entry when it is recorded."""

    description: str
    details: dict[str, Any] = field(default_factory=dict)
    reverts: tuple[RevertCall, ...] = ()
    in_flight_id: str | None = None
