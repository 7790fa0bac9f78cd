"""The run folder stops taking writes mid-run (a full disk, as a test double of the run folder's disk): the run
stops the load, reverts every injected fault from the journal kept in memory and exits 2 with the reason;
under plain `chaos run` too (exit 1: Chaos Toolkit's own failure code)."""

from __future__ import annotations

import http.server
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from aftershock import control
from aftershock.cli import main
from aftershock.core.errors import RunFolderUnwritable
from aftershock.core.plan import RunPlan
from aftershock.core.runfolder import RunFolder
from aftershock.faults import actions
from aftershock.sampler import Sampler
from aftershock.session import interrupt_run
from tests.diskkit import FillingDisk
from tests.runkit import FakeDriver, write_target

DISK = FillingDisk()


def fill_the_disk(seconds: float = 10.0, configuration: Any = None, secrets: Any = None) -> None:
    """An experiment step (Chaos Toolkit imports this module): the disk fills, then the step waits; the run must
    interrupt it within a sampler period."""
    DISK.fill()
    time.sleep(seconds)


def terminate_me(seconds: float = 10.0, configuration: Any = None, secrets: Any = None) -> None:
    """An experiment step: this process gets SIGTERM (a CI job cancelled), then the step waits."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(seconds)


class SampledSession:
    """Stands in for the load and ledger; keeps the real sampler, which notices the failing disk."""

    def __init__(self, run: RunFolder, plan: RunPlan, driver: FakeDriver) -> None:
        self.run, self.stops = run, 0
        self.sampler = Sampler(driver, run, interval_s=0.05, on_write_failure=lambda why: interrupt_run(run, why))

    def stop(self) -> None:
        self.stops += 1
        self.sampler.stop()


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FillingDisk]:
    DISK.full = False
    monkeypatch.setattr(RunFolder, "disk", DISK)
    yield DISK
    DISK.full = False


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """The control hooks SIGINT/SIGTERM of this process during a run: give pytest its own handlers back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def front_door() -> Iterator[str]:
    """Something that answers HTTP on 127.0.0.1 (the runner checks the target's front door first)."""

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _experiment(path: Path, target: Path | None = None, second_step: str = "fill_the_disk") -> Path:
    """The experiment; with ``target`` it names it in its configuration, as a plain ``chaos run`` needs."""
    step = {"type": "python", "module": "aftershock.faults.actions"}
    configuration: dict[str, Any] = {"aftershock_run_dir": {"type": "env", "key": "AFTERSHOCK_RUN_DIR",
                                                            "default": ""}}
    if target is not None:
        configuration["aftershock_target"] = str(target)
    path.write_text(yaml.safe_dump({
        "title": "The disk fills during a fault",
        "description": "az outage, then the run folder stops taking writes",
        "controls": [{"name": "aftershock", "provider": {"type": "python", "module": "aftershock.control"}}],
        "configuration": configuration,
        "method": [
            {"type": "action", "name": "lose-an-az", "provider": {**step, "func": "az_outage"}},
            {"type": "action", "name": "fill-the-disk",
             "provider": {"type": "python", "module": __name__, "func": second_step}},
        ],
        "rollbacks": [{"type": "action", "name": "revert-faults", "provider": {**step, "func": "revert_faults"}}],
    }, sort_keys=False))
    return path


def _sampled_sessions(driver: FakeDriver, monkeypatch: pytest.MonkeyPatch) -> list[SampledSession]:
    """Every run session the control begins from now on is a :class:`SampledSession` (listed here)."""
    sessions: list[SampledSession] = []

    def begin(run: RunFolder, plan: RunPlan) -> SampledSession:
        session = SampledSession(run, plan, driver)
        sessions.append(session)
        session.sampler.start()
        return session

    monkeypatch.setattr(control.RunSession, "begin", begin)
    return sessions


def test_aftershock_run_on_a_disk_that_fills_reverts_from_memory_and_exits_2(
        tmp_path: Path, driver: FakeDriver, disk: FillingDisk, front_door: str, signals_restored: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = _sampled_sessions(driver, monkeypatch)
    target = write_target(tmp_path / "target.yaml", front_door={**yaml.safe_load(
        (write_target(tmp_path / "t0.yaml")).read_text())["front_door"], "url": front_door})
    began = time.monotonic()
    result = CliRunner().invoke(main, ["run", str(_experiment(tmp_path / "disk.yaml")), "--target", str(target),
                                       "--out", str(tmp_path / "runs")], env={"COLUMNS": "400"})
    assert time.monotonic() - began < 8, "the run must stop as soon as the disk fails, not after the step"
    [path] = (tmp_path / "runs").iterdir()
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: the run folder {path} stopped taking writes (No space left on device writing samples.jsonl): the "
        "load was stopped and every injected fault reverted; free space or make it writable before the next run")
    assert driver.methods.count("az_outage") == 1 and driver.methods.count("az_restore") == 1
    [session] = sessions
    assert session.stops >= 1
    disk.full = False
    assert [line for line in (path / "faults.jsonl").read_text().splitlines() if '"reverted"' in line] == [], \
        "the revert was journaled in memory only (the disk was full)"


def _plain_chaos_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # plain `chaos run` opens its run folder under ./runs
    monkeypatch.setenv("AFTERSHOCK_RUN_DIR", "")
    monkeypatch.delenv("AFTERSHOCK_RUN_DIR")  # and restored (unset) after the test: open_run sets it


def _chaos_run(experiment: Path, journal: Path) -> Any:
    """Chaos Toolkit's own ``chaos run`` command, in this process (so the test doubles apply)."""
    from chaostoolkit.cli import cli as chaos

    chaos_log = logging.getLogger("chaostoolkit")
    handlers, level = list(chaos_log.handlers), chaos_log.level
    try:
        return CliRunner().invoke(chaos, ["--no-log-file", "run", "--rollback-strategy", "always",
                                          "--journal-path", str(journal), str(experiment)])
    finally:  # the chaos command adds console handlers to its logger: later tests must not write through them
        chaos_log.handlers[:], chaos_log.level = handlers, level


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # chaostoolkit's own imports (not ours)
def test_plain_chaos_run_interrupted_by_sigterm_reverts_and_fails(
        tmp_path: Path, driver: FakeDriver, signals_restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chaos Toolkit turns a SIGTERM inside an activity into a failed activity and calls the run "completed"
    (exit 0): a cancelled nightly would pass. The control makes the journal say interrupted (exit 1)."""
    sessions = _sampled_sessions(driver, monkeypatch)
    _plain_chaos_folder(tmp_path, monkeypatch)
    experiment = _experiment(tmp_path / "term.yaml", target=write_target(tmp_path / "target.yaml"),
                             second_step="terminate_me")
    began = time.monotonic()
    result = _chaos_run(experiment, tmp_path / "journal.json")
    assert time.monotonic() - began < 8, "SIGTERM interrupts the step"
    assert result.exit_code == 1, result.output
    assert json.loads((tmp_path / "journal.json").read_text())["status"] == "interrupted"
    [path] = (tmp_path / "runs").iterdir()
    assert json.loads((path / "summary.json").read_text())["status"] == "interrupted"
    assert driver.methods.count("az_outage") == 1 and driver.methods.count("az_restore") == 1
    assert sessions and sessions[0].stops >= 1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # chaostoolkit's own imports (not ours)
def test_plain_chaos_run_on_a_disk_that_fills_reverts_from_memory_and_fails(
        tmp_path: Path, driver: FakeDriver, disk: FillingDisk, signals_restored: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same under Chaos Toolkit's own ``chaos run`` (its click command, in this process so the disk double
    applies): the control's sampler notices, the rollback reverts from memory, the command fails."""
    sessions = _sampled_sessions(driver, monkeypatch)
    _plain_chaos_folder(tmp_path, monkeypatch)
    experiment = _experiment(tmp_path / "disk.yaml", target=write_target(tmp_path / "target.yaml"))
    began = time.monotonic()
    result = _chaos_run(experiment, tmp_path / "journal.json")
    assert time.monotonic() - began < 8, "the run must stop as soon as the disk fails, not after the step"
    [path] = (tmp_path / "runs").iterdir()
    # Chaos Toolkit swallows a control's exception: the reason is on its console and the journal fails the command
    assert result.exit_code == 1, result.output
    assert f"aftershock: the run folder {path} stopped taking writes (No space left on device" in result.output
    assert json.loads((tmp_path / "journal.json").read_text())["status"] == "interrupted"
    assert driver.methods.count("az_outage") == 1 and driver.methods.count("az_restore") == 1
    [session] = sessions
    assert session.stops >= 1
    disk.full = False
    assert [line for line in (path / "faults.jsonl").read_text().splitlines() if '"reverted"' in line] == []


def test_the_finish_reverts_what_the_journal_in_memory_holds_and_raises_the_reason(
        configuration: dict[str, Any], run: RunFolder, driver: FakeDriver, disk: FillingDisk,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[str] = []

    class Session:
        @classmethod
        def begin(cls, run: RunFolder, plan: RunPlan) -> Session:
            return cls()

        def stop(self) -> None:
            stopped.append("stop")

    monkeypatch.setattr(control, "RunSession", Session)
    control.before_experiment_control({"title": "Lose an AZ"}, configuration=configuration)
    actions.az_outage(configuration=configuration)
    disk.fill()
    run.file("faults.jsonl").unlink()  # what reached the disk is of no help any more
    with pytest.raises(RunFolderUnwritable) as caught:
        control.after_experiment_control({}, state={"status": "interrupted"}, configuration=configuration)
    control.cleanup_control()
    assert str(caught.value) == (
        f"the run folder {run.path} stopped taking writes (No space left on device writing finish.claim): the "
        "load was stopped and every injected fault reverted; free space or make it writable before the next run")
    assert driver.methods.count("az_restore") == 1 and driver.methods.count("wait_healthy") == 1
    assert stopped, "the session (load, ledger, sampler) is stopped"
    with pytest.raises(RunFolderUnwritable):  # the runner's own call after Chaos Toolkit returned
        control.finish_run(run, by="aftershock run")


def test_the_sampler_reports_the_first_write_failure_once(run: RunFolder, driver: FakeDriver,
                                                          disk: FillingDisk) -> None:
    failures: list[str] = []
    sampler = Sampler(driver, run, interval_s=0.01, on_write_failure=failures.append)
    sampler.start()
    disk.fill()
    deadline = time.monotonic() + 5
    while not failures and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    sampler.stop()
    assert failures == ["No space left on device writing samples.jsonl"]
