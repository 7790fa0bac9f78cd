"""The console's list pages, in-process through its real ASGI app: the runs index (run folders and game days with
their steps, newest first, each with its state and link) and the scorecards list (one link per recorded target)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from types import MappingProxyType

import httpx

from aftershock.reports.history import COLUMNS, HistoryRun, HistoryStore
from aftershock.serve.app import Console, build_app
from tests.aftershock.gameday.gamedaykit import BEFORE_FAULT, FAULT, write_run

NOW = time.time()
PASSED = {"passed": True, "status": "completed"}


def _get(runs: Path, *paths: str, db: Path | None = None) -> list[httpx.Response]:
    """GET ``paths`` from the console's ASGI app, in process (as a browser on 127.0.0.1 would)."""
    async def get() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=build_app(Console(runs=runs, history_db=db)))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return [await client.get(path) for path in paths]
    return asyncio.run(get())


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """``(started, scenario, state, folder)`` per row of the runs table, tags stripped."""
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td class='\w*'>(.*?)</td><td>(.*?)</td></tr>", html)
    return [tuple(re.sub(r"<[^>]+>", "", cell).replace("&nbsp;", " ") for cell in row) for row in rows]  # type: ignore[misc]


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))


def test_runs_index_lists_runs_and_game_days_newest_first(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    markers = BEFORE_FAULT + FAULT
    write_run(runs, start=NOW - 3600, seconds=5, markers=markers, summary=PASSED, name="a-passed")
    write_run(runs, start=NOW - 3000, seconds=5, markers=markers, summary={"passed": False, "status": "completed"},
              name="b-failed")
    write_run(runs, start=NOW - 2400, seconds=5, markers=markers, summary={"passed": False, "status": "interrupted"},
              name="c-interrupted")
    old = write_run(runs, start=NOW - 1800, seconds=5, markers=markers, name="d-unfinished")
    for path in old.glob("*.jsonl"):  # nobody writes to it any more
        os.utime(path, (NOW - 600, NOW - 600))
    write_run(runs, start=NOW - 30, seconds=25, markers=markers, name="e-live")
    day = runs / "20261121T120000Z-gameday-drill"
    write_run(day / "steps", start=NOW - 1200, seconds=5, markers=markers, summary=PASSED, name="s1")
    write_run(day / "steps", start=NOW - 1100, seconds=5, markers=markers, summary={"passed": False,
              "status": "interrupted"}, name="s2")
    (day / "gameday.json").write_text(json.dumps({"title": "Drill", "started_at": NOW - 1250}))
    (runs / "not-a-run").mkdir()
    response, step = _get(runs, "/", f"/run/{day.name}/steps/s2")
    assert response.status_code == 200
    assert _rows(response.text) == [
        (_stamp(NOW - 30), "az-outage", "live", "e-live"),
        (_stamp(NOW - 1250), "game day: Drill", "game day", day.name),
        (_stamp(NOW - 1200), "  ↳ az-outage", "passed", f"{day.name}/steps/s1"),
        (_stamp(NOW - 1100), "  ↳ az-outage", "interrupted", f"{day.name}/steps/s2"),
        (_stamp(NOW - 1800), "az-outage", "unfinished", "d-unfinished"),
        (_stamp(NOW - 2400), "az-outage", "interrupted", "c-interrupted"),
        (_stamp(NOW - 3000), "az-outage", "failed", "b-failed"),
        (_stamp(NOW - 3600), "az-outage", "passed", "a-passed"),
    ]
    assert "<a href='/run/e-live'>" in response.text and f"<a href='/run/{day.name}/steps/s2'>" in response.text
    assert f"<a href='/run/{day.name}'" not in response.text  # a game day is no run folder: no run view
    assert "<td class='warn'>live</td>" in response.text and "<td class='bad'>failed</td>" in response.text
    assert step.status_code == 200 and "id='phase'>ABORTED</span>" in step.text


def test_runs_index_of_an_empty_folder(tmp_path: Path) -> None:
    page = _get(tmp_path, "/")[0].text
    assert "<tr><td colspan=4 class=dim>no run yet</td></tr>" in page


def _history(db: Path, targets: list[str]) -> None:
    with HistoryStore(db) as store:
        for i, target in enumerate(targets):
            figures = dict.fromkeys(COLUMNS) | {"rto_s": 1.0 + i}
            store.add(HistoryRun(f"run-{i}", "pod-kill", target, 1_790_000_000.0 + i, True, False, "completed",
                                 f"/nowhere/run-{i}", MappingProxyType(figures)))


def test_scorecards_list_one_link_per_recorded_target(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    _history(db, ["lab", "prod-eu", "lab", "aws-staging"])
    page, card = (r.text for r in _get(tmp_path, "/scorecard", "/scorecard/prod-eu", db=db))
    assert re.findall(r"<li><a href='(/scorecard/[^']+)'>([^<]+)</a></li>", page) == [
        ("/scorecard/aws-staging", "aws-staging"), ("/scorecard/lab", "lab"), ("/scorecard/prod-eu", "prod-eu")]
    assert "<h1>Scorecard: prod-eu</h1>" in card and "data-scenario='pod-kill'" in card
    assert "<td>2 s <small class='dim'>(no objective)</small></td>" in card  # its folder is gone: no objective


def test_scorecards_list_without_history(tmp_path: Path) -> None:
    page = _get(tmp_path, "/scorecard", db=tmp_path / "empty.sqlite")[0].text
    assert "<h1>Scorecards</h1><ul><li class=dim>no run recorded yet</li></ul>" in page
