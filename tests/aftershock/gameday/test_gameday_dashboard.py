"""The dashboard of a live run folder: phase, RTO so far, traffic, replicas, writer, ledger (``watch --once``)."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aftershock.cli.gameday import watch_command
from aftershock.core.runfolder import RunFolder
from aftershock.gameday.snapshot import RunWatcher, derive_phase, fault_in_progress
from tests.aftershock.gameday.gamedaykit import BEFORE_FAULT, FAULT, FAULT_AT_S, write_run


def watch_once(folder: Path) -> str:
    result = CliRunner().invoke(watch_command, [str(folder), "--once"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    return result.output


def test_during_the_fault_the_rto_counts_up_while_requests_fail(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S, markers=BEFORE_FAULT + FAULT)
    output = watch_once(run)
    assert re.search(r"phase\s+FAULT\s+T\+2[01]\.\d s", output), output
    assert re.search(r"RTO\s+RTO so far (9\.9|1\d\.\d) s, still failing", output), output
    assert "ok 0.0 req/s  failed 40.0 req/s  p95 800 ms  (last 5 s)" in output
    assert "us-east-1 2/3 ready  us-west-2 2/2 ready  AZ down: us-east-1a" in output
    assert "writer    shop-east-b (us-east-1)  lag shop-west-a 0.25 s" in output
    assert "ledger    100 acknowledged, 19 failed, 1 in doubt" in output
    assert re.search(r"T\+10\.0s\s+fault\.start\s+az_outage\(az=''\)", output), output
    assert re.search(r"T\+10\.\ds\s+fault\.end\s+AZ us-east-1a is down", output), output


def test_after_the_failures_stop_the_rto_so_far_is_the_last_failure(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 20.0
    run = write_run(tmp_path, start=start, seconds=20.0, fail_from=FAULT_AT_S, fail_until=FAULT_AT_S + 2.5,
                    markers=BEFORE_FAULT + FAULT)
    snap = RunWatcher(RunFolder(run)).snapshot()
    assert snap.phase == "recovering"
    assert snap.rto.kind == "so far" and not snap.rto.failing
    assert snap.rto.seconds == pytest.approx(2.49, abs=0.1)
    assert snap.ok_rps == pytest.approx(100.0) and snap.fail_rps == 0.0
    output = watch_once(run)
    assert "RECOVERING" in output and "RTO so far 2.5 s, no failures now" in output


def test_an_interrupted_run_is_rolling_back(tmp_path: Path) -> None:
    start = math.floor(time.time()) - 15.0
    markers = [*BEFORE_FAULT, *FAULT, (12.0, "run.interrupted", {"signal": "SIGINT"}),
               (12.1, "rollbacks.start", {})]
    run = write_run(tmp_path, start=start, seconds=15.0, fail_from=FAULT_AT_S, markers=markers)
    output = watch_once(run)
    assert "ROLLING BACK" in output and "interrupted: rolling the fault back" in output
    assert re.search(r"T\+12\.0s\s+run\.interrupted\s+SIGINT", output), output


def test_a_finished_run_shows_the_measured_rto_and_the_verdict(tmp_path: Path) -> None:
    start = 1_795_264_000.0
    markers = [*BEFORE_FAULT, *FAULT, (16.0, "rollbacks.start", {}),
               (16.2, "fault.reverted", {"action": "az_outage", "by": "rollback"}), (16.5, "rollbacks.end", {})]
    rto = {"ts": start + 15, "kind": "rto", "recovered": True, "rto_s": 1.049, "fault_start": start + FAULT_AT_S}
    run = write_run(tmp_path, start=start, seconds=17.0, fail_from=FAULT_AT_S, fail_until=FAULT_AT_S + 1.0,
                    markers=markers, measurements=[rto], summary={"passed": True, "status": "completed"})
    output = watch_once(run)
    assert re.search(r"phase\s+FINISHED\s+T\+17\.0 s", output), output
    assert "RTO       1.0 s (measured)" in output
    assert "verdict   PASSED (status completed)" in output
    assert re.search(r"T\+16\.2s\s+fault\.reverted\s+az_outage by rollback", output), output


def test_watch_follows_the_newest_run_of_a_folder_and_rejects_others(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", start=time.time() - 5, seconds=5.0, markers=BEFORE_FAULT, name="a-older")
    time.sleep(0.01)
    write_run(tmp_path / "runs", start=time.time() - 5, seconds=5.0, markers=BEFORE_FAULT[:1], name="b-newer")
    output = watch_once(tmp_path / "runs")
    assert "b-newer" in output and "STEADY STATE" in output and "no fault yet" in output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(watch_command, [str(empty), "--once"])
    assert result.exit_code != 0
    assert str(result.exception) == f"{empty} holds no run folder (no run.json): pass a folder under runs/"


@pytest.mark.parametrize(("kinds", "failing", "phase"), [
    ([], False, "warming up"),
    (["load.warm", "hypothesis.start"], False, "steady state"),
    (["load.warm", "method.start", "fault.start"], False, "fault"),
    (["load.warm", "fault.start", "fault.end"], True, "fault"),
    (["load.warm", "fault.start", "fault.end"], False, "recovering"),
    # the steady-state check after the method runs while the fault is still in effect (AZ still down)
    (["fault.start", "fault.end", "method.end", "hypothesis.start"], False, "recovering"),
    (["fault.start", "fault.end", "method.end", "hypothesis.start"], True, "fault"),
    (["load.warm", "fault.start", "fault.aborted"], False, "steady state"),
    (["fault.start", "fault.end", "run.interrupted"], True, "rolling back"),
    (["fault.start", "fault.end", "rollbacks.start"], False, "rolling back"),
    (["fault.start", "fault.end", "rollbacks.start", "rollbacks.end"], False, "rolled back"),
])
def test_phase_from_markers(kinds: list[str], failing: bool, phase: str) -> None:
    assert derive_phase(kinds, failing=failing, done=False, warm=False) == phase
    ended = "aborted" if "run.interrupted" in kinds else "finished"
    assert derive_phase(kinds, failing=failing, done=True, warm=False) == ended


def test_fault_in_progress_between_start_and_end() -> None:
    assert fault_in_progress([{"kind": "fault.start"}])
    assert not fault_in_progress([{"kind": "fault.start"}, {"kind": "fault.end"}])
    assert not fault_in_progress([{"kind": "fault.start"}, {"kind": "fault.aborted"}])
    assert fault_in_progress([{"kind": "fault.start"}, {"kind": "fault.end"}, {"kind": "fault.start"}])


def test_watch_of_a_game_day_moves_on_to_each_new_step_until_the_day_ends(tmp_path: Path) -> None:
    """From another terminal, `watch GAMEDAY_FOLDER` follows the day: step 1 done, step 2 appears, day ends."""
    import json

    from rich.console import Console

    from aftershock.gameday.dashboard import watch

    day = tmp_path / "day"
    done = {"passed": True, "status": "completed"}
    write_run(day / "steps", start=time.time() - 5, seconds=5.0, markers=BEFORE_FAULT, summary=done, name="1-pod-kill")
    (day / "gameday.json").write_text(json.dumps({"title": "t", "ended_at": None}))
    frames: list[str] = []

    def next_frame(_seconds: float) -> None:  # stands for the dashboard's sleep: the day goes on meanwhile
        frames.append("tick")
        if len(frames) == 1:
            write_run(day / "steps", start=time.time() - 5, seconds=5.0, markers=BEFORE_FAULT, summary=done,
                      name="2-az-outage")
        elif len(frames) == 3:
            (day / "gameday.json").write_text(json.dumps({"title": "t", "ended_at": time.time()}))
        assert len(frames) < 20, "watch must end once the game day has ended"

    console = Console(record=True, width=120, force_terminal=False)
    watch(day, console, interval_s=0.0, sleep=next_frame)
    assert "2-az-outage" in console.export_text()  # the last frame shows the newest step
    assert len(frames) == 3, "it waited on the finished step until the day ended, then stopped"
