"""The target loader, fuzzed: any target file yields a Target or the project's one-line error, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from aftershock.core.errors import AftershockError
from aftershock.core.target import Target, load_target
from tests.fuzzkit import file_texts
from tests.runkit import target_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES: dict[str, dict[str, Any]] = {
    "lab": target_data(load={"locustfile": "journeys.py", "users": 5, "http": {"headers": {"X-Test": "1"}}}),
    "aws": yaml.safe_load((ROOT / "targets" / "example-aws.yaml").read_text()),
}


def loads_or_says_why(text: str) -> Target | None:
    with tempfile.TemporaryDirectory(prefix="aftershock-fuzz-") as tmp:
        path = Path(tmp) / "target.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_target(path)
        except AftershockError as exc:
            assert str(exc) and "\n" not in str(exc), "one line"
            assert exc.exit_code == 2
            return None


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_target_file_loads_or_is_a_one_line_error(kind: str, data: st.DataObject) -> None:
    loads_or_says_why(data.draw(file_texts(EXAMPLES[kind])))


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_the_examples_load(kind: str) -> None:
    assert loads_or_says_why(yaml.safe_dump(EXAMPLES[kind])) is not None
