"""`aftershock run --dry-run` against an AWS target: the method's faults list every API call, mutate nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aftershock.core.target import dump_target
from aftershock.faults.registry import DRIVERS
from aftershock.runner import RunOptions, dry_run_calls, prepare

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def test_dry_run_of_the_az_outage_experiment_lists_the_calls_and_changes_nothing(
        stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target_file = tmp_path / "aws.yaml"
    dump_target(stack.target, target_file)
    lines: list[str] = []
    # dry_run comes from the plan dry_run_calls writes: the registry passes it on
    monkeypatch.setitem(DRIVERS, "aws", lambda target, run, dry_run: stack.driver(run=None, dry_run=dry_run,
                                                                               echo=lines.append))
    before = stack.snapshot()
    plan = prepare(EXPERIMENTS / "az-outage.yaml", RunOptions(target=str(target_file)))

    dry_run_calls(plan)

    assert stack.snapshot() == before
    writes = [line.split()[4].split("(")[0] for line in lines if line.startswith("dry run: WRITE")]
    assert writes[:2] == ["create_network_acl", "replace_network_acl_association"]
    assert "stop_instances" in writes and "failover_db_cluster" in writes
