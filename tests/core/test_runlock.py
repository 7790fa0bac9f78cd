"""The lab's run lock: a flock'ed file naming its holder; a second taker is refused, a dead holder taken over."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftershock.core.errors import TargetLocked, UsageError
from aftershock.core.runlock import FileLock, Holder
from tests.lockkit import STARTED, dead_pid, hold_in_another_process, let_go


@pytest.fixture
def other_run(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    holder = Holder(run_id="20240501T120000Z-az-outage", host=socket.gethostname(), pid=os.getpid(),
                    started_at=STARTED)
    proc = hold_in_another_process(tmp_path / "run.lock", holder)
    yield proc
    let_go(proc)


def test_a_lock_is_taken_released_and_taken_again(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "home" / "run.lock", target="lab")
    held = lock.acquire(Holder.here("run-1"))
    holder = lock.holder()
    assert holder is not None and holder.run_id == "run-1" and holder.pid == os.getpid()
    held.release()
    held.release()  # idempotent
    assert lock.holder() is None
    lock.acquire(Holder.here("run-2")).release()


def test_a_second_run_is_refused_naming_the_holder(tmp_path: Path, other_run: subprocess.Popen[str]) -> None:
    lock = FileLock(tmp_path / "run.lock", target="lab")
    with pytest.raises(TargetLocked) as info:
        lock.acquire(Holder.here("run-2"))
    assert str(info.value) == (
        f"target 'lab' is locked by run 20240501T120000Z-az-outage on {socket.gethostname()} (pid {os.getpid()}, "
        "started 2024-05-01 12:00:00 UTC): wait for that run to finish, or pass --force-unlock if it is dead")
    assert isinstance(info.value, UsageError) and info.value.exit_code == 2
    assert info.value.target == "lab"


def test_a_lock_file_left_by_a_killed_run_is_free(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    path.write_text(Holder("killed-run", socket.gethostname(), dead_pid(), STARTED).to_json())  # no flock any more
    lock = FileLock(path, target="lab")
    assert lock.holder() is None
    warnings: list[str] = []
    lock.acquire(Holder.here("run-2"), warn=warnings.append).release()
    assert warnings == []


def test_a_dead_holder_whose_flock_lives_on_is_taken_over(tmp_path: Path) -> None:
    """The flock outlived the run (a child kept the file open): the named pid is dead, so the lock is stale."""
    pid = dead_pid()
    holder = Holder("killed-run", socket.gethostname(), pid, STARTED)
    keeper = hold_in_another_process(tmp_path / "run.lock", holder)
    try:
        warnings: list[str] = []
        lock = FileLock(tmp_path / "run.lock", target="lab")
        held = lock.acquire(Holder.here("run-2"), warn=warnings.append)
        assert warnings == [f"taking over the lock of target 'lab' from run killed-run on {socket.gethostname()} "
                            f"(pid {pid}, started 2024-05-01 12:00:00 UTC): its holder is dead"]
        current = lock.holder()
        assert current is not None and current.run_id == "run-2"
        held.release()
    finally:
        let_go(keeper)


def test_a_holder_on_another_host_is_never_judged_dead(tmp_path: Path) -> None:
    keeper = hold_in_another_process(tmp_path / "run.lock", Holder("ci-run", "elsewhere", dead_pid(), STARTED))
    try:
        with pytest.raises(TargetLocked):
            FileLock(tmp_path / "run.lock", target="lab").acquire(Holder.here("run-2"))
    finally:
        let_go(keeper)


def test_force_takes_a_live_lock_with_a_warning(tmp_path: Path, other_run: subprocess.Popen[str]) -> None:
    warnings: list[str] = []
    lock = FileLock(tmp_path / "run.lock", target="lab")
    held = lock.acquire(Holder.here("run-2"), force=True, warn=warnings.append)
    assert warnings == [f"taking over the lock of target 'lab' from run 20240501T120000Z-az-outage on "
                        f"{socket.gethostname()} (pid {os.getpid()}, started 2024-05-01 12:00:00 UTC): forced "
                        "(--force-unlock)"]
    current = lock.holder()
    assert current is not None and current.run_id == "run-2"
    held.release()


def test_a_child_of_the_holder_runs_under_its_lock(tmp_path: Path, other_run: subprocess.Popen[str]) -> None:
    lock = FileLock(tmp_path / "run.lock", target="lab")
    with pytest.raises(TargetLocked):
        lock.acquire(Holder.here("step-1", under="20240501T120000Z-other"))  # not its parent
    lock.acquire(Holder.here("step-1", under="20240501T120000Z-az-outage")).release()  # the parent still holds it
    current = lock.holder()
    assert current is not None and current.run_id == "20240501T120000Z-az-outage"


def test_an_unwritable_home_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError) as info:
        FileLock(tmp_path / "file" / "run.lock", target="lab").acquire(Holder.here("run-1"))
    assert str(info.value) == (f"cannot create the lock folder {tmp_path / 'file'} (File exists): make it writable "
                               "or point AFTERSHOCK_HOME elsewhere")


@pytest.mark.parametrize("text", ["", "{", "[]", '{"run_id": 1}', '{"run_id": "r", "host": "h", "pid": "x", '
                                  '"started_at": 0}'])
def test_a_broken_holder_file_reads_as_no_holder(text: str) -> None:
    assert Holder.from_json(text) is None
