"""A run's load from workers on "other hosts" (extra Locust worker processes on 127.0.0.1): the session waits for
them before the warm-up, a lost worker is a marker (not an abort), and workers that never come are exit-2 input
naming the command to run on them."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import UsageError
from aftershock.core.kinds import MarkerKind
from aftershock.core.loadworkers import clock_offsets_ms, read_worker_events
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import MARKERS, RunFolder
from aftershock.planning import resolve_plan
from aftershock.session import RunSession
from tests.loadtests.conftest import procs, shop  # noqa: F401  (fixtures)
from tests.loadtests.loadkit import Procs, StandinShop, wait_for
from tests.runkit import FakeDriver, write_target


def _session(tmp_path: Path, url: str, **load: Any) -> RunSession:
    target = write_target(tmp_path / "target.yaml", front_door={"url": url, "endpoint_groups": [
        {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"}]})
    plan = resolve_plan({}, experiment="x.yaml", target_ref=str(target),
                        load={"users": 6, "ledger": False, "load_duration_s": 60, "task_rate": 5, **load})
    run = RunFolder.create(tmp_path / "runs", "remote")
    write_plan(run, plan)
    session = RunSession(run, plan.snapshot, FakeDriver(plan.snapshot), plan.load, slow_ms=plan.slow_ms)
    session.plan = plan
    return session


def _markers(run: RunFolder) -> list[dict[str, Any]]:
    return list(run.records(MARKERS, skip_broken=True))


def _worker_command(run: RunFolder) -> str:
    started = [m for m in _markers(run) if m["kind"] == MarkerKind.LOAD_STARTED]
    return str(started[0]["worker_command"]) if started else ""


def test_remote_workers_join_and_a_lost_one_is_a_marker(shop: StandinShop, procs: Procs,  # noqa: F811
                                                        tmp_path: Path) -> None:
    session = _session(tmp_path, shop.url, workers=1, remote_workers=2)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            session.start()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    starter = threading.Thread(target=start)
    starter.start()
    try:
        wait_for(lambda: _worker_command(session.run), 30, "the load.started marker with the worker command")
        command = _worker_command(session.run)
        assert " --worker --master-host 127.0.0.1 --master-port " in command
        argv = [sys.executable, *command.split()[1:]]
        port = command.split("--master-port ")[1].split()[0]
        # the second "host" joins the way the container image does (deploy/kubernetes): `aftershock worker`
        image_argv = [str(Path(sys.executable).parent / "aftershock"), "worker", "--master-host", "127.0.0.1",
                      "--master-port", port]
        remote = [procs.start(a, tmp_path / f"remote-{i}.log", start_new_session=True)
                  for i, a in ((1, argv), (2, image_argv))]
        starter.join(timeout=90)
        assert not starter.is_alive() and errors == []
        wait_for(lambda: len({r.get("source") for r in _timeline(session.run) if r.get("source")}) >= 3, 20,
                 "requests from the local and both remote workers")
        remote[0].send_signal(signal.SIGKILL)
        wait_for(lambda: len(clock_offsets_ms(read_worker_events(session.run.path))) == 3, 10,
                 "a clock offset estimate for every worker")
        # one host: the offsets are the reports' smallest one-way delay, well under the 20 ms warning level
        assert all(abs(v) < 20 for v in clock_offsets_ms(read_worker_events(session.run.path)).values())
        wait_for(lambda: any(e.event == "lost" for e in read_worker_events(session.run.path)), 30,
                 "the master noticing the lost worker")
        assert session.load is not None and session.load.running  # the run goes on
    finally:
        starter.join(timeout=90)
        session.stop()
    lost = [m for m in _markers(session.run) if m["kind"] == MarkerKind.LOAD_WORKER_LOST]
    assert len(lost) == 1 and lost[0]["at"] <= lost[0]["ts"]
    assert [m["kind"] for m in _markers(session.run)][-1] != MarkerKind.LOAD_WORKERS_MISSING


def _timeline(run: RunFolder) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run.path / "timeline.jsonl").read_text().splitlines() if line.strip()]


def test_workers_that_never_come_name_the_command(shop: StandinShop, tmp_path: Path) -> None:  # noqa: F811
    session = _session(tmp_path, shop.url, remote_workers=2, worker_grace_s=2)
    try:
        with pytest.raises(UsageError) as err:
            session.start()
    finally:
        session.stop()
    command = _worker_command(session.run)
    assert str(err.value) == (f"2 remote Locust worker(s) did not connect within 2 s: on each worker host run "
                              f"`{command}` (or lower --remote-workers)")
    missing = [m for m in _markers(session.run) if m["kind"] == MarkerKind.LOAD_WORKERS_MISSING]
    assert missing and missing[0]["message"] == str(err.value)
    assert shop.served() == 0
