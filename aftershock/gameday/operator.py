"""The people in the room: go / skip / stop before each fault, continue or not after an abort.

:class:`Unattended` (``--yes``) says go to every step and stops the day after an abort; :class:`Interactive`
asks on the terminal (a line each; end of input or Ctrl-C means stop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Decision = Literal["go", "skip", "stop"]
ANSWERS: dict[str, Decision] = {"go": "go", "g": "go", "skip": "skip", "stop": "stop", "q": "stop", "quit": "stop"}


class Operator(Protocol):
    unattended: bool

    def decide(self, step_label: str) -> Decision: ...

    def continue_after_abort(self) -> bool: ...


@dataclass
class Unattended:
    """``--yes``: every step goes; an abort ends the day."""

    unattended: bool = True

    def decide(self, step_label: str) -> Decision:
        return "go"

    def continue_after_abort(self) -> bool:
        return False


@dataclass
class Interactive:
    """Asks with ``ask`` (e.g. ``console.input``): a line per answer, repeated until it is understood."""

    ask: Callable[[str], str]
    unattended: bool = False

    def _line(self, prompt: str) -> str | None:
        try:
            return self.ask(prompt).strip().lower()
        except (EOFError, KeyboardInterrupt):
            return None

    def decide(self, step_label: str) -> Decision:
        while True:
            answer = self._line(f"{step_label}: go / skip / stop? ")
            if answer is None:
                return "stop"
            if answer in ANSWERS:
                return ANSWERS[answer]

    def continue_after_abort(self) -> bool:
        while True:
            answer = self._line("the step was aborted; continue with the next step? (yes / no) ")
            if answer is None or answer in ("n", "no"):
                return False
            if answer in ("y", "yes"):
                return True
