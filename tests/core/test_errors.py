"""One exception root: every exception class of aftershock derives from AftershockError and carries context."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

from aftershock.core.errors import (
    AftershockError,
    FaultRefused,
    FormatError,
    HarnessError,
    TargetError,
    UsageError,
)
from aftershock.core.timeline.store import TimelineFormatError

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "lab", "faults", "probes", "reports", "loadtests", "aftershock")
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, BaseException)}


def _classes() -> dict[str, tuple[str, list[str]]]:
    """Every class of the package: name -> (file:line, base names)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if package == "aftershock" and path.relative_to(REPO / package).parts[0] in PACKAGES:
                continue  # the links to the other folders
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                             for b in node.bases]
                    found[node.name] = (f"{path.relative_to(REPO)}:{node.lineno}", bases)
    return found


def outside_the_root(classes: dict[str, tuple[str, list[str]]]) -> list[str]:
    """Exception classes that do not reach AftershockError through project classes."""
    def rooted(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name == "AftershockError":
            return True
        if name not in classes or name in seen:
            return False
        return any(rooted(base, seen | {name}) for base in classes[name][1])

    def is_exception(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in BUILTIN_ERRORS:
            return True
        if name not in classes or name in seen:
            return False
        return any(is_exception(base, seen | {name}) for base in classes[name][1])

    return sorted(f"{where}: {name}" for name, (where, _) in classes.items()
                  if name != "AftershockError" and is_exception(name) and not rooted(name))


def test_every_exception_class_derives_from_the_root() -> None:
    classes = _classes()
    assert "LedgerError" in classes and "ApiError" in classes  # the walk sees the subpackages
    assert outside_the_root(classes) == []


def test_a_stray_exception_is_found() -> None:
    classes = {"AftershockError": ("core/errors.py:1", ["Exception"]),
               "Good": ("x.py:1", ["AftershockError"]), "Stray": ("x.py:5", ["ValueError"]),
               "Child": ("x.py:9", ["Stray"])}
    assert outside_the_root(classes) == ["x.py:5: Stray", "x.py:9: Child"]


def test_errors_carry_context_besides_the_message() -> None:
    err = FaultRefused("AZ 'x' is down already: restore it first", target="lab", fault="az_outage")
    assert str(err) == "AZ 'x' is down already: restore it first"
    assert err.context == {"target": "lab", "fault": "az_outage"}
    assert err.with_context(target="other", step="method[0]") is err
    assert err.context == {"target": "lab", "fault": "az_outage", "step": "method[0]"}  # the first value wins


@pytest.mark.parametrize(("error", "parents"), [
    (TimelineFormatError("bad bucket record"), (FormatError, HarnessError, ValueError)),
    (TargetError("no such target"), (AftershockError,)),
])
def test_the_tree(error: AftershockError, parents: tuple[type[BaseException], ...]) -> None:
    assert isinstance(error, parents) and error.exit_code == 2


def test_a_message_built_from_user_input_stays_one_line() -> None:
    # found by the fuzz test of game-day plans: a YAML key "\n\n" made a two-line error
    error = UsageError("plan.yaml: \n\n: unknown field\tcheck the spelling")
    assert str(error) == "plan.yaml: \\n\\n: unknown field\\tcheck the spelling"
    assert "\n" not in error.message
    assert str(UsageError("plain message, one line")) == "plain message, one line"
