"""The experiment loader and the objectives, fuzzed: any experiment file yields a validated experiment or the
project's one-line error (exit code 2 at the CLI, nothing injected), never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftershock.cli import main
from aftershock.core.errors import AftershockError
from aftershock.core.target import parse_target
from aftershock.objectives import resolve_objectives
from aftershock.validate import load_experiment_file
from tests.fuzzkit import file_texts, json_values
from tests.runkit import target_data, write_target

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE: dict[str, Any] = yaml.safe_load((ROOT / "experiments" / "az-outage.yaml").read_text())


def one_line(exc: AftershockError) -> None:
    assert str(exc) and "\n" not in str(exc), "one line"
    assert exc.exit_code == 2


@settings(max_examples=200, deadline=None)
@given(text=file_texts(EXAMPLE))
def test_any_experiment_file_loads_or_is_a_one_line_error(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="aftershock-fuzz-") as tmp:
        path = Path(tmp) / "experiment.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            experiment = load_experiment_file(path)
        except AftershockError as exc:
            one_line(exc)
        else:
            assert isinstance(experiment, dict)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=file_texts(EXAMPLE))
def test_the_cli_answers_any_experiment_with_exit_2_and_one_line(tmp_path: Path, text: str) -> None:
    """``aftershock run --dry-run``: a bad experiment is exit code 2 and one ``error:`` line, nothing else."""
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(text, encoding="utf-8")
    target = write_target(tmp_path / "target.yaml")
    result = CliRunner().invoke(main, ["run", str(experiment), "--target", str(target), "--dry-run"],
                                env={"COLUMNS": "10000"})
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert isinstance(result.exception, SystemExit), result.exception  # not a traceback
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output


TARGET = parse_target(target_data(), "target.yaml")


@settings(max_examples=300, deadline=None)
@given(disruption=st.sampled_from(["application", "az", "region"]) | st.text(max_size=8),
       overrides=st.dictionaries(st.sampled_from(["rto_s", "az.rpo_s", "region.rto_s", "x.rto_s", "bogus"])
                                 | st.text(max_size=8), json_values, max_size=4),
       tier=st.sampled_from(["lab", "warm-standby"]) | st.text(max_size=8))
def test_any_objectives_resolve_or_are_a_one_line_error(disruption: str, overrides: dict[str, Any],
                                                       tier: str) -> None:
    target = TARGET.model_copy(update={"objectives_tier": tier})
    try:
        resolved = resolve_objectives(target, disruption, overrides)
    except AftershockError as exc:
        one_line(exc)
    else:
        assert all(isinstance(v, float) for v in resolved.values())
