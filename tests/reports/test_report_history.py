"""The history store: recording runs, regression flags beyond the noise, the trend page."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftershock.reports.history import FIGURES, HistoryRun, HistoryStore, RegressionPolicy, detect_regressions
from aftershock.reports.trend import render_trend
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun


def _run(i: int, rto: float | None, *, partial: bool = False, scenario: str = "pod-kill") -> HistoryRun:
    figures = dict.fromkeys(FIGURES, None) | {"rto_s": rto, "rpo_s": 0.0}
    return HistoryRun(f"run-{i:02d}", scenario, "lab", 1_795_000_000.0 + i * 3600, True, partial, "completed",
                      f"/runs/run-{i:02d}", figures)


BASELINE = [10.0, 10.6, 9.8, 10.2, 11.0, 10.1]


def test_clearly_worse_rto_is_flagged() -> None:
    previous = [_run(i, v) for i, v in enumerate(BASELINE)]
    [regression] = detect_regressions(_run(9, 30.0), previous)
    assert regression.figure == "rto_s" and regression.value == 30.0
    assert regression.median == pytest.approx(10.15)
    assert regression.limit == pytest.approx(10.15 + 2.0)  # 3 * MAD (0.9) < the 2 s margin
    assert str(regression) == "rto_s 30 > 12.15 (median 10.15 + noise, over 6 runs)"


def test_within_noise_is_not_flagged() -> None:
    previous = [_run(i, v) for i, v in enumerate(BASELINE)]
    assert detect_regressions(_run(9, 11.9), previous) == []


def test_noisy_history_widens_the_limit() -> None:
    previous = [_run(i, v) for i, v in enumerate([5.0, 15.0, 8.0, 20.0, 11.0])]
    assert detect_regressions(_run(9, 22.0), previous) == []  # median 11, MAD 4 -> limit 23
    assert [r.figure for r in detect_regressions(_run(9, 24.0), previous)] == ["rto_s"]


def test_too_few_runs_and_partial_runs_are_no_baseline() -> None:
    previous = [_run(0, 10.0), _run(1, 10.0), _run(2, 60.0, partial=True), _run(3, 60.0, partial=True)]
    assert detect_regressions(_run(9, 40.0), previous) == []
    assert detect_regressions(_run(9, 40.0, partial=True), [_run(i, 1.0) for i in range(5)]) == []


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError, match=r"RegressionPolicy\(window=2, min_runs=3\): need 1 <= min_runs <= window"):
        RegressionPolicy(window=2, min_runs=3)


def test_store_records_queries_and_flags(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for i, value in enumerate([*BASELINE, 30.0]):
            store.add(_run(i, value))
        store.add(_run(50, 99.0, scenario="az-outage"))
        store.add(_run(6, 30.0))  # recorded twice: replaced, not counted twice
        entries = store.entries(scenario="pod-kill", target="lab")
    assert [e.run.run_id for e in entries] == [f"run-{i:02d}" for i in range(7)]
    assert [bool(e.regressions) for e in entries] == [False] * 6 + [True]
    html = render_trend(entries)
    assert html.count('data-kind="regression"') == 1
    assert 'data-chart="trend-rto_s"' in html and 'data-chart="trend-rpo_s"' in html


def test_write_reports_records_in_aftershock_home(run_factory: MakeRun, _isolated_home: Path) -> None:
    for rto in (4.0, 4.2, 3.9, 4.1):
        assert write_reports(run_factory(rto_s=rto)).regressions == ()
    worse = write_reports(run_factory(rto_s=9.0))
    assert [r.figure for r in worse.regressions] == ["rto_s"]
    with HistoryStore(_isolated_home / "history.sqlite") as store:
        assert len(store.runs(scenario="pod-kill")) == 5
