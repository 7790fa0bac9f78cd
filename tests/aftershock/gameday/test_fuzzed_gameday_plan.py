"""The game-day plan loader, fuzzed: any plan file yields a Plan or the project's one-line error."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings

from aftershock.core.errors import AftershockError
from aftershock.gameday.plan import Plan, load_plan
from tests.fuzzkit import file_texts

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE: dict[str, Any] = yaml.safe_load((ROOT / "experiments" / "gamedays" / "example.yaml").read_text())


@settings(max_examples=300, deadline=None)
@given(text=file_texts(EXAMPLE))
def test_any_plan_file_loads_or_is_a_one_line_error(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="aftershock-fuzz-") as tmp:
        path = Path(tmp) / "plan.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            plan = load_plan(path)
        except AftershockError as exc:
            assert str(exc) and "\n" not in str(exc), "one line"
            assert exc.exit_code == 2
        else:
            assert isinstance(plan, Plan)
