"""PLAN.yaml: the example validates; every mistake is one line naming the file and the field; overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.bundled import EXPERIMENTS, bundled_names
from aftershock.core.errors import UsageError
from aftershock.gameday.overrides import with_objectives
from aftershock.gameday.plan import load_plan, parse_plan
from aftershock.objectives import KNOWN

EXAMPLE = EXPERIMENTS / "gamedays" / "example.yaml"
NAMES = ", ".join(bundled_names())  # every bundled experiment, as the message lists them
OK_STEP: dict[str, Any] = {"experiment": "pod-kill"}


def test_the_example_plan_validates() -> None:
    plan = load_plan(EXAMPLE)
    assert [s.experiment for s in plan.steps] == ["pod-kill", "az-outage", "aurora-writer-crash"]
    assert all(s.notes for s in plan.steps)
    assert plan.steps[1].objectives == {"rto_s": 20.0}
    assert plan.step_target(plan.steps[0]) == "lab"
    assert plan.experiment_path(plan.steps[2]) == EXPERIMENTS / "aurora-writer-crash.yaml"


def test_experiments_resolve_relative_to_the_plan(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text((EXPERIMENTS / "pod-kill.yaml").read_text())
    plan = parse_plan({"title": "t", "target": "aws.yaml", "steps": [{"experiment": "mine.yaml", "target": "lab"},
                                                                     {"experiment": "az-outage"}]},
                      tmp_path / "PLAN.yaml")
    assert plan.experiment_path(plan.steps[0]) == tmp_path / "mine.yaml"
    assert [plan.step_target(s) for s in plan.steps] == ["lab", "aws.yaml"]


@pytest.mark.parametrize(("data", "message"), [
    ({"steps": [OK_STEP]}, "title: is required (see experiments/gamedays/example.yaml)"),
    ({"title": "", "steps": [OK_STEP]}, "title: must not be empty"),
    ({"title": "t"}, "steps: is required (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "steps": []}, "steps: needs at least one step"),
    ({"title": "t", "steps": "pod-kill"}, "steps: must be a list of steps (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "steps": ["pod-kill"]},
     "steps[0]: must be a mapping with an experiment (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "steps": [{}]}, "steps[0].experiment: is required (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "user": 3}]},
     "steps[0].user: unknown field; check the spelling (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "stepz": []}, "stepz: unknown field; check the spelling (see experiments/gamedays/example.yaml)"),
    ({"title": "t", "steps": [OK_STEP, {"experiment": "pod-kill", "users": 0}]},
     "steps[1].users: 0 is too small: use at least 1"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "users": "many"}]},
     "steps[0].users: 'many' is not a whole number"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "duration": "soon"}]},
     "steps[0].duration: 'soon' is not a duration: use seconds or a form like 90s, 5m, 1h30m"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "shape": "wave"}]},
     "steps[0].shape: 'wave' is unknown: use one of 'steady', 'step', 'spike'"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "objectives": {"rto": 3}}]},
     "steps[0].objectives: unknown objective 'rto'; use one of " + ", ".join(sorted(KNOWN))),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "objectives": {"rto_s": "fast"}}]},
     "steps[0].objectives.rto_s: 'fast' is not a number: give seconds (or writes) as a plain number"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "objectives": {"rto_s": -1}}]},
     "steps[0].objectives: objective 'rto_s' must be 0 or more"),
    ({"title": "t", "steps": [{"experiment": "pod-kill", "objectives": [20]}]},
     "steps[0].objectives: must be a mapping such as {rto_s: 20}"),
    ({"title": "t", "steps": [OK_STEP, {"experiment": "no-such"}]},
     f"steps[1].experiment: no experiment 'no-such': use a file path or one of {NAMES}"),
    (["pod-kill"], "a plan must be a mapping with title and steps (see experiments/gamedays/example.yaml)"),
], ids=lambda v: "" if isinstance(v, str) else None)
def test_plan_errors_name_the_file_and_the_field(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "PLAN.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError) as caught:
        load_plan(path)
    assert str(caught.value) == f"{path}: {message}"


def test_a_missing_or_broken_plan_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_plan(tmp_path / "nope.yaml")
    assert str(caught.value) == (f"plan file {str(tmp_path / 'nope.yaml')!r} does not exist: pass a PLAN.yaml "
                                 "(see experiments/gamedays/example.yaml)")
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: t\nsteps: [\n")
    with pytest.raises(UsageError) as caught:
        load_plan(broken)
    assert str(caught.value) == f"{broken}: not valid YAML (line 3): fix the syntax"


def test_objective_overrides_are_merged_into_a_copy_and_judged(tmp_path: Path) -> None:
    copy = with_objectives(EXPERIMENTS / "az-outage.yaml", {"rto_s": 20.0, "lost_writes": 0.0}, tmp_path,
                           name="step-2-az-outage.yaml")
    assert copy == tmp_path / "step-2-az-outage.yaml"
    config = yaml.safe_load(copy.read_text())["configuration"]
    assert config["aftershock_objectives"] == {"rto_s": 20.0, "lost_writes": 0.0}
    assert config["aftershock_judge"] == "rto_s,rpo_s,lost_writes"
    assert config["aftershock_scenario"] == "az-outage"
    original = yaml.safe_load((EXPERIMENTS / "az-outage.yaml").read_text())
    assert yaml.safe_load(copy.read_text())["method"] == original["method"]
