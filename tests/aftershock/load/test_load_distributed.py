"""Distributed load: master + local workers, and workers started on their own (as remote ones would be).

The timeline must be complete: its total equals Locust's own totals (``--json-file``).
"""

from __future__ import annotations

import json
from pathlib import Path

from aftershock.core.timeline.store import read_timeline
from aftershock.load.config import LoadConfig, LoadResult, worker_argv
from aftershock.load.launcher import run_load
from tests.loadtests.loadkit import Procs, StandinShop, locust_processes_for


def sources(timeline_file: Path) -> set[str]:
    found = set()
    for line in timeline_file.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "bucket":
            found.add(record["source"])
    return found


def check_complete(result: LoadResult) -> None:
    assert result.exit_code == 0, result.log_path.read_text()[-3000:]
    timeline = read_timeline(result.timeline_path)
    assert result.requests is not None and result.requests > 50
    assert timeline.total == result.requests
    assert timeline.failures == result.failures == 0
    assert len(sources(result.timeline_path)) == 2, "both workers' buckets should be in the timeline"
    assert {n for n in timeline.names if n.startswith("fresh:")} == {
        "fresh:GET /health",
        "fresh:GET /api/products/{id}",
    }
    assert locust_processes_for(str(result.out_dir)) == []


def test_master_and_two_local_workers(shop: StandinShop, tmp_path: Path) -> None:
    config = LoadConfig(url=shop.url, out_dir=tmp_path / "run", users=6, duration_s=4, workers=2, task_rate=5)
    result = run_load(config)
    assert result.worker_argv is not None and "--worker" in result.worker_argv
    assert len(result.worker_exit_codes) == 2
    check_complete(result)


def test_workers_started_separately_like_remote_ones(shop: StandinShop, procs: Procs, tmp_path: Path) -> None:
    config = LoadConfig(url=shop.url, out_dir=tmp_path / "run", users=6, duration_s=4, remote_workers=2, task_rate=5)

    def start_workers(preview: LoadResult) -> None:
        assert preview.master_port is not None
        argv = worker_argv(config, preview.master_port, "127.0.0.1")
        for index in range(2):
            procs.start(argv, tmp_path / f"remote-{index}.log")

    result = run_load(config, on_started=start_workers)
    for proc in procs.procs:
        assert proc.wait(timeout=30) == 0
    check_complete(result)
