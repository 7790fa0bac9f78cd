"""The experiments shipped with aftershock (package data ``aftershock/experiments/*.yaml``), found by name."""

from __future__ import annotations

from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parent / "experiments"


def bundled_names() -> list[str]:
    """The names ``aftershock run NAME`` accepts, sorted."""
    return sorted(p.stem for p in EXPERIMENTS.glob("*.yaml"))


def resolve_experiment(experiment: str, *bases: Path) -> Path:
    """``experiment`` as a file (relative to each of ``bases``, then the working directory), else the bundled
    experiment of that name, else the path as given (the caller reports it missing)."""
    as_path = Path(experiment)
    for candidate in (*(base / as_path for base in bases), as_path):
        if candidate.is_file():
            return candidate
    bundled = EXPERIMENTS / f"{experiment}.yaml"
    if not as_path.suffix and bundled.is_file():
        return bundled
    return as_path
