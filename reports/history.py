"""The run history: every reported run's figures in SQLite, and regression flags against recent runs.

Default store: ``$AFTERSHOCK_HOME/history.sqlite`` (see :mod:`aftershock.core.paths`). A run is keyed by its run
folder name, so reporting a run twice updates it instead of counting it twice.

A figure (every one is "smaller is better") regresses when it is worse than its recent runs beyond their
noise: ``value > median + max(mad_factor * MAD, margin)`` over the last ``window`` complete runs of the same
scenario and target that measured it (at least ``min_runs`` of them). MAD is the median absolute deviation;
``margin`` is a per-figure absolute floor, so a run of identical figures (MAD 0) does not flag a 10 ms wobble.

Example::

    with HistoryStore.default() as store:
        regressions = store.record(load_report_data(run_dir))
        for entry in store.entries(scenario="pod-kill", target="lab"):
            entry.run.rto_s, [r.figure for r in entry.regressions]
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType

from aftershock.core import paths
from aftershock.reports.model import ReportData

FIGURES: tuple[str, ...] = ("rto_s", "rpo_s", "lost_writes", "in_doubt_writes", "first_scale_s",
                            "ready_capacity_s", "latency_slo_s", "dynamodb_rpo_s", "dynamodb_lost", "s3_rpo_s",
                            "s3_lost", "identity_rpo_s", "identity_lost", "rejected_session_rate",
                            "login_failure_rate")
"""Figures kept per run and judged for regressions; for each, a smaller value is better."""

ERROR_BARS: tuple[str, ...] = ("rto_error_s",)
"""Kept next to the figures (``rto_s +- rto_error_s``), never judged."""

COLUMNS: tuple[str, ...] = FIGURES + ERROR_BARS

DEFAULT_MARGINS: Mapping[str, float] = MappingProxyType({
    "rto_s": 2.0, "rpo_s": 1.0, "lost_writes": 0.5, "in_doubt_writes": 2.0,
    "first_scale_s": 5.0, "ready_capacity_s": 5.0, "latency_slo_s": 5.0,
    "dynamodb_rpo_s": 1.0, "dynamodb_lost": 0.5, "s3_rpo_s": 1.0, "s3_lost": 0.5,
    "identity_rpo_s": 1.0, "identity_lost": 0.5, "rejected_session_rate": 0.05, "login_failure_rate": 0.05,
})

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    target TEXT NOT NULL,
    started_at REAL NOT NULL,
    passed INTEGER NOT NULL,
    partial INTEGER NOT NULL,
    status TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    {", ".join(f"{name} REAL" for name in COLUMNS)}
);
CREATE INDEX IF NOT EXISTS runs_by_scenario ON runs (scenario, target, started_at);
"""


@dataclass(frozen=True)
class HistoryRun:
    """One recorded run."""

    run_id: str
    scenario: str
    target: str
    started_at: float
    passed: bool
    partial: bool
    status: str
    run_dir: str
    figures: Mapping[str, float | None]

    def figure(self, name: str) -> float | None:
        return self.figures.get(name)


@dataclass(frozen=True)
class Regression:
    """A figure worse than its recent runs beyond their noise."""

    run_id: str
    figure: str
    value: float
    median: float
    mad: float
    limit: float
    baseline_runs: int

    def __str__(self) -> str:
        return (f"{self.figure} {self.value:g} > {self.limit:g} (median {self.median:g} + noise, "
                f"over {self.baseline_runs} runs)")


@dataclass(frozen=True, kw_only=True)
class RegressionPolicy:
    """When a figure counts as a regression.

    Example::

        RegressionPolicy(window=10, min_runs=3, mad_factor=3.0, margins={"rto_s": 2.0})
    """

    window: int = 10
    min_runs: int = 3
    mad_factor: float = 3.0
    margins: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MARGINS)

    def __post_init__(self) -> None:
        if self.window < 1 or self.min_runs < 1 or self.min_runs > self.window:
            raise ValueError(f"RegressionPolicy(window={self.window}, min_runs={self.min_runs}): need "
                             "1 <= min_runs <= window")
        if self.mad_factor < 0:
            raise ValueError(f"RegressionPolicy(mad_factor={self.mad_factor}): must be >= 0")


def detect_regressions(run: HistoryRun, previous: Sequence[HistoryRun],
                       policy: RegressionPolicy | None = None) -> list[Regression]:
    """The figures of ``run`` that regressed against the complete runs in ``previous`` (oldest first)."""
    policy = policy or RegressionPolicy()
    if run.partial:
        return []
    found = []
    for name in FIGURES:
        value = run.figure(name)
        if value is None:
            continue
        baseline = [v for r in previous if not r.partial and (v := r.figure(name)) is not None][-policy.window:]
        if len(baseline) < policy.min_runs:
            continue
        median = statistics.median(baseline)
        mad = statistics.median(abs(v - median) for v in baseline)
        limit = median + max(policy.mad_factor * mad, policy.margins.get(name, 0.0))
        if value > limit:
            found.append(Regression(run.run_id, name, value, median, mad, limit, len(baseline)))
    return found


@dataclass(frozen=True)
class HistoryEntry:
    run: HistoryRun
    regressions: tuple[Regression, ...]


def _figure(data: ReportData, name: str) -> float | None:
    value = data.figures.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    for objective in data.objectives:
        if objective.name == name:
            return objective.measured
    return None


class HistoryStore:
    """SQLite history of runs (one connection; close it, or use ``with``)."""

    def __init__(self, path: Path, *, policy: RegressionPolicy | None = None) -> None:
        self.path = Path(path)
        self.policy = policy or RegressionPolicy()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.executescript(_SCHEMA)
        known = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        with self._db:  # a store written before a column existed gets it (empty for the old runs)
            for name in COLUMNS:
                if name not in known:
                    self._db.execute(f"ALTER TABLE runs ADD COLUMN {name} REAL")

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r}, policy={self.policy!r})"

    @classmethod
    def default(cls) -> HistoryStore:
        """The store under ``$AFTERSHOCK_HOME``."""
        return cls(paths.home() / "history.sqlite")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def add(self, run: HistoryRun) -> None:
        columns = ("run_id", "scenario", "target", "started_at", "passed", "partial", "status", "run_dir",
                   "recorded_at", *COLUMNS)
        values = (run.run_id, run.scenario, run.target, run.started_at, int(run.passed), int(run.partial),
                  run.status, run.run_dir, time.time(), *(run.figure(name) for name in COLUMNS))
        with self._db:
            self._db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' for _ in columns)})", values)

    def record(self, data: ReportData) -> list[Regression]:
        """Store a run's figures; returns its regressions against the runs before it."""
        run = HistoryRun(
            run_id=data.run_id, scenario=data.run.scenario, target=data.run.target,
            started_at=data.run.started_at if data.run.started_at is not None else time.time(),
            passed=data.passed, partial=data.partial, status=data.status, run_dir=str(data.run_dir.resolve()),
            figures={name: _figure(data, name) for name in COLUMNS},
        )
        self.add(run)
        key = (run.started_at, run.run_id)
        before = [r for r in self.runs(scenario=run.scenario, target=run.target) if (r.started_at, r.run_id) < key]
        return detect_regressions(run, before, self.policy)

    def runs(self, *, scenario: str | None = None, target: str | None = None) -> list[HistoryRun]:
        """Recorded runs, oldest first, optionally of one scenario and/or target."""
        query = f"SELECT run_id, scenario, target, started_at, passed, partial, status, run_dir, " \
                f"{', '.join(COLUMNS)} FROM runs"
        where, args = [], []
        for column, value in (("scenario", scenario), ("target", target)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = self._db.execute(query + " ORDER BY started_at, run_id", args).fetchall()
        return [HistoryRun(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), row[6], row[7],
                           MappingProxyType(dict(zip(COLUMNS, row[8:], strict=True)))) for row in rows]

    def entries(self, *, scenario: str | None = None, target: str | None = None) -> list[HistoryEntry]:
        """Every run with its regressions against the runs of its scenario and target before it."""
        entries = []
        groups: dict[tuple[str, str], list[HistoryRun]] = {}
        for run in self.runs(scenario=scenario, target=target):
            previous = groups.setdefault((run.scenario, run.target), [])
            entries.append(HistoryEntry(run, tuple(detect_regressions(run, previous, self.policy))))
            previous.append(run)
        return entries


__all__ = ["COLUMNS", "DEFAULT_MARGINS", "ERROR_BARS", "FIGURES", "HistoryEntry", "HistoryRun", "HistoryStore",
           "Regression", "RegressionPolicy", "detect_regressions"]
