"""Waits are interruptible: Ctrl-C during a long failover wait inside a fault stops it at once (signals are held
only around the short critical section that records a fault), and the rollback restores the target."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.journal import outstanding
from aftershock.core.kinds import MarkerKind
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import MARKERS
from aftershock.core.target import dump_target
from aftershock.faults import actions
from aftershock.faults.registry import DRIVERS
from aftershock.planning import resolve_plan


def test_ctrl_c_during_a_long_failover_wait_rolls_back_within_seconds(
        stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws = stack.target.aws.model_copy(update={"wait_timeout_s": 600.0, "poll_interval_s": 0.05})
    stack.target = stack.target.model_copy(update={"aws": aws})
    target_file = tmp_path / "aws-test.yaml"
    dump_target(stack.target, target_file)
    write_plan(stack.run, resolve_plan({}, experiment="az.yaml", target_ref=str(target_file)))
    monkeypatch.setitem(DRIVERS, "aws", lambda target, **_: stack.driver())
    before = stack.snapshot()

    def failing_over(parsed: dict[str, Any], **_: Any) -> None:
        for cluster in parsed.get("DBClusters", []):
            cluster["Status"] = "failing-over"  # the writer failover never ends (up to wait_timeout_s: 600 s)

    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))  # Ctrl-C half a second into the wait
    started: list[float] = []

    def wait_begins(**_: Any) -> None:
        started.append(time.monotonic())
        timer.start()

    stack.botocore_session.register("after-call.rds.DescribeDBClusters", failing_over)
    stack.botocore_session.register("after-call.rds.FailoverDBCluster", wait_begins)
    try:
        with pytest.raises(KeyboardInterrupt):
            actions.az_outage(az="us-east-1a", configuration={"aftershock_run_dir": str(stack.run.path)})
        interrupted = time.monotonic()
    finally:
        timer.cancel()
        stack.botocore_session.unregister("after-call.rds.DescribeDBClusters", failing_over)
        stack.botocore_session.unregister("after-call.rds.FailoverDBCluster", wait_begins)
    assert interrupted - started[0] < 3.0  # not wait_timeout_s (600 s)

    markers = [r["kind"] for r in stack.run.records(MARKERS)]
    assert markers == [MarkerKind.FAULT_START.value, MarkerKind.FAULT_ABORTED.value]
    assert [f.action for f in outstanding(stack.run)] == ["az_outage (in flight)"]
    result = actions.revert_faults(configuration={"aftershock_run_dir": str(stack.run.path)})  # the rollback
    assert result["reverted"][0].startswith("AZ us-east-1a (us-east-1) restored")
    assert stack.snapshot() == before
