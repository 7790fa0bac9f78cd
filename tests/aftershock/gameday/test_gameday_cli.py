"""``aftershock gameday`` refuses a bad plan before anything runs and leaves no game-day folder behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aftershock.cli.gameday import gameday_command, main
from aftershock.core.errors import TargetError, UsageError


def test_an_invalid_step_stops_the_day_before_it_starts(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"title: t\ntarget: {tmp_path / 'aws.yaml'}\nsteps:\n  - experiment: pod-kill\n"
                    "    objectives: {rto_s: 5}\n")
    out = tmp_path / "days"
    result = CliRunner().invoke(gameday_command, [str(plan), "--yes", "--out", str(out)])
    assert isinstance(result.exception, TargetError)
    assert str(result.exception) == (f"target file {str(tmp_path / 'aws.yaml')!r} does not exist: pass --target lab "
                                     "or an existing YAML file")
    assert not out.exists() or list(out.iterdir()) == [], "nothing may be left of a day that never started"


def test_a_bad_plan_is_a_usage_error(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: t\nsteps:\n  - experiment: pod-kill\n    users: 0\n")
    result = CliRunner().invoke(gameday_command, [str(plan)])
    assert isinstance(result.exception, UsageError)
    assert str(result.exception) == f"{plan}: steps[0].users: 0 is too small: use at least 1"


@pytest.mark.parametrize("command", ["gameday", "watch"])
def test_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert ("press `a`" if command == "gameday" else "--once") in result.output
