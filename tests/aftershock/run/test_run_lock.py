"""One run per target: ``aftershock run`` and ``aftershock gameday`` on a locked lab exit 2 naming the holder and
inject nothing; ``--force-unlock`` takes the lock with a warning; read-only commands never take it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftershock.core.runlock import FileLock, Holder
from tests.lockkit import STARTED, hold_in_another_process, let_go
from tests.runkit import write_target

ROOT = Path(__file__).resolve().parents[3]
EXPERIMENT = ROOT / "experiments" / "az-outage.yaml"
HOLDER = Holder(run_id="20240501T120000Z-az-outage", host="ci-runner-7", pid=4242, started_at=STARTED)
LOCKED = ("error: target 't' is locked by run 20240501T120000Z-az-outage on ci-runner-7 (pid 4242, started "
          "2024-05-01 12:00:00 UTC): wait for that run to finish, or pass --force-unlock if it is dead")


def aftershock(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AFTERSHOCK_HOME": str(home), "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "aftershock", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture
def lab_home(tmp_path: Path) -> Path:
    return tmp_path / "labhome"


@pytest.fixture
def target(tmp_path: Path, lab_home: Path) -> Path:
    return write_target(tmp_path / "target.yaml", lab={"control_url": "http://127.0.0.1:2", "home": str(lab_home)})


@pytest.fixture
def locked(lab_home: Path) -> Iterator[None]:
    """Another run holds the lab's lock."""
    keeper = hold_in_another_process(lab_home / "run.lock", HOLDER)
    yield
    let_go(keeper)


def test_a_second_run_exits_2_naming_the_holder_and_injects_nothing(tmp_path: Path, target: Path,
                                                                     locked: None) -> None:
    result = aftershock("run", str(EXPERIMENT), "--target", str(target), "--out", str(tmp_path / "runs"),
                        home=tmp_path / "home")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == LOCKED
    assert not (tmp_path / "runs").exists(), "a refused run creates no run folder and injects nothing"


def test_a_game_day_on_a_locked_target_exits_2_before_its_first_step(tmp_path: Path, target: Path,
                                                                      locked: None) -> None:
    plan = tmp_path / "day.yaml"
    plan.write_text(f"title: q2\ntarget: {target}\nsteps:\n  - experiment: {EXPERIMENT}\n")
    result = aftershock("gameday", str(plan), "--yes", "--out", str(tmp_path / "days"), home=tmp_path / "home")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == LOCKED
    assert not (tmp_path / "days").exists()


def test_read_only_commands_never_take_the_lock(tmp_path: Path, target: Path, locked: None) -> None:
    dry = aftershock("run", str(EXPERIMENT), "--target", str(target), "--dry-run", home=tmp_path / "home")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was injected" in dry.stdout
    history = aftershock("history", "--db", str(tmp_path / "history.sqlite"), home=tmp_path / "home")
    assert history.returncode == 0, history.stderr


def test_force_unlock_takes_the_lock_with_a_warning(tmp_path: Path, target: Path, lab_home: Path,
                                                   locked: None) -> None:
    result = aftershock("run", str(EXPERIMENT), "--target", str(target), "--out", str(tmp_path / "runs"),
                        "--force-unlock", home=tmp_path / "home")
    lines = result.stderr.strip().splitlines()
    assert lines[0] == ("warning: taking over the lock of target 't' from run 20240501T120000Z-az-outage on "
                        "ci-runner-7 (pid 4242, started 2024-05-01 12:00:00 UTC): forced (--force-unlock)")
    # the run went on (and stopped at the unreachable fake front door); its lock went with it
    assert result.returncode == 2 and "http://127.0.0.1:1" in lines[-1]
    assert FileLock(lab_home / "run.lock", target="t").holder() is None


def test_a_run_releases_the_lock_on_exit(tmp_path: Path, target: Path, lab_home: Path) -> None:
    result = aftershock("run", str(EXPERIMENT), "--target", str(target), "--out", str(tmp_path / "runs"),
                        home=tmp_path / "home")
    assert result.returncode == 2  # the fake front door does not answer
    assert (lab_home / "run.lock").exists()
    assert FileLock(lab_home / "run.lock", target="t").holder() is None
    lock = FileLock(lab_home / "run.lock", target="t")
    lock.acquire(Holder(run_id="next", host=socket.gethostname(), pid=os.getpid(), started_at=STARTED)).release()
