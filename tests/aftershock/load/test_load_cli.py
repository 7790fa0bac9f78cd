"""``aftershock load``: the run folder, exit codes, one-line errors, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from aftershock.core.timeline.store import TimelineFollower, read_timeline
from aftershock.load.config import parse_duration
from tests.loadtests.loadkit import REPO, Procs, StandinShop, free_port, locust_processes_for, wait_for

CLI = [sys.executable, "-m", "aftershock", "load"]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)


def test_run_folder_and_exit_0_although_requests_fail(make_shop: Callable[[str], StandinShop], tmp_path: Path) -> None:
    shop = make_shop("bad-body")  # product pages answer 200 with a wrong body
    out = tmp_path / "run"
    done = run_cli("--url", shop.url, "--users", "5", "--duration", "3s", "--out", str(out), "--task-rate", "5")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} >= {"timeline.jsonl", "locust.log", "load.json", "locust-stats.json"}
    record = json.loads((out / "load.json").read_text())
    assert record["args"]["users"] == 5 and record["args"]["url"] == shop.url
    assert record["result"]["exit_code"] == 0 and record["result"]["interrupted"] is False
    timeline = read_timeline(out)
    assert timeline.total == record["result"]["requests"] == record["timeline"]["requests"]
    product = [b for b in timeline.buckets if b.name == "GET /api/products/{id}"]
    assert sum(b.fail for b in product) > 0 and sum(b.ok for b in product) == 0
    assert {k for b in product for k in b.error_kinds} == {"bad body"}
    assert "TOTAL" in done.stdout and "GET /api/products/{id}" in done.stdout
    assert record["summary"][-1]["name"] == "TOTAL"


def test_http_errors_are_recorded_by_status(make_shop: Callable[[str], StandinShop], tmp_path: Path) -> None:
    shop = make_shop("503")
    out = tmp_path / "run"
    done = run_cli("--url", shop.url, "--users", "4", "--duration", "2s", "--out", str(out), "--task-rate", "5")
    assert done.returncode == 0, done.stderr
    timeline = read_timeline(out)
    api = [b for b in timeline.buckets if "/api/" in b.name and not b.name.startswith("fresh:")]
    assert sum(b.ok for b in api) == 0 and {k for b in api for k in b.error_kinds} == {"http 503"}
    health = [b for b in timeline.buckets if b.name == "fresh:GET /health"]
    assert sum(b.fail for b in health) == 0 and sum(b.ok for b in health) > 0
    assert json.loads((out / "load.json").read_text())["outages"], "a run of 503s is an outage"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--users", "-1"), "error: --users -1 must be at least 1: pass a positive number of users"),
        (("--users", "0"), "error: --users 0 must be at least 1: pass a positive number of users"),
        (("--shape", "wave"), "error: --shape 'wave' is unknown: use one of steady, step, spike"),
        (("--duration", "5x"), "error: --duration '5x' is not a duration: use seconds or a form like 90s, 5m, 1h30m"),
        (("--duration", "0s"), "error: --duration '0s' is too short: use at least 1s"),
        (("--workers", "-2"), "error: --workers -2 must be 0 (one process) or more"),
        (("--rate", "0"), "error: --rate 0 must be positive: pass users started per second"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(shop: StandinShop, args: tuple[str, ...], message: str) -> None:
    done = run_cli("--url", shop.url, *args, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert done.stdout == ""


def test_unreachable_and_malformed_targets_exit_2(tmp_path: Path) -> None:
    port = free_port()
    done = run_cli("--url", f"http://127.0.0.1:{port}", timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: --url http://127.0.0.1:{port}: nothing answers at 127.0.0.1:{port} (connection refused); "
        "start the target or fix --url"
    )
    done = run_cli("--url", "127.0.0.1:8080", timeout=60)
    assert (
        done.stderr.strip()
        == "error: --url '127.0.0.1:8080' is not an http(s) URL: use a form like http://127.0.0.1:8080"
    )
    done = run_cli("--target", str(tmp_path / "nope.yaml"), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: target file {str(tmp_path / 'nope.yaml')!r} does not exist: pass --target lab or an existing YAML file"
    )
    done = run_cli("--url", "http://127.0.0.1:1", "--target", "lab", timeout=60)
    assert done.stderr.strip() == "error: --url and --target both given: pass only one of them"


def test_ctrl_c_leaves_a_readable_timeline_and_no_process(shop: StandinShop, procs: Procs, tmp_path: Path) -> None:
    out = tmp_path / "run"
    cli = procs.start(
        [*CLI, "--url", shop.url, "--users", "4", "--duration", "60s", "--out", str(out)], tmp_path / "cli.log"
    )
    follower = TimelineFollower(out / "timeline.jsonl")

    def has_traffic() -> bool:
        follower.poll()
        return follower.timeline().total > 20

    wait_for(has_traffic, 60, "traffic in the timeline", interval=0.05)
    cli.send_signal(signal.SIGINT)
    assert cli.wait(timeout=60) == 130, (tmp_path / "cli.log").read_text()[-3000:]
    timeline = read_timeline(out)
    assert timeline.total >= follower.timeline().total > 20
    assert timeline.skipped_lines == 0
    record = json.loads((out / "load.json").read_text())
    assert record["result"]["interrupted"] is True
    assert locust_processes_for(str(out)) == []


def test_parse_duration_forms() -> None:
    assert [parse_duration(t) for t in ("90", "90s", "5m", "1h30m", "1m30s", "2.5")] == [90, 90, 300, 5400, 90, 2.5]
