"""What a fault did and how to undo it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RevertCall:
    """The driver call that reverses a fault: ``getattr(driver, method)(**args)``."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FaultOutcome:
    """A fault as injected: a one-line description, details, and the calls that revert it, in order
    (empty: it heals by itself, like a killed pod or a crashed writer)."""

    description: str
    details: dict[str, Any] = field(default_factory=dict)
    reverts: tuple[RevertCall, ...] = ()
