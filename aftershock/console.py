"""The shared rich consoles (stdout for results, stderr for errors)."""

from __future__ import annotations

from rich.console import Console


def stdout() -> Console:
    return Console()


def stderr() -> Console:
    return Console(stderr=True)
