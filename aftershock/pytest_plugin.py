"""pytest plugin: the resilience suite, one test per experiment (``experiments/*.yaml``).

    pytest -m resilience --target lab                       # every experiment against the lab
    pytest -m resilience --target targets/aws.yaml --scenario aurora --alluredir allure-results

The experiments are collected only when ``-m resilience`` (any mark expression naming it) or
``--resilience`` is given, so ``make test`` never starts them. Each test runs
``aftershock run <file> --target T --out <dir>`` in a subprocess; it fails when the exit code is not 0, with
the missed objectives from ``summary.json`` in the message. The run folder's reports (``report.html``,
``report.md``, ``junit.xml``) are written if the run did not write them, and with ``--alluredir``
(allure-pytest) ``summary.json``, ``report.html``, the charts and ``journal.json`` are attached.

Options: ``--target`` (default ``lab``), ``--scenario`` (repeatable: a scenario name, file stem or tag),
``--resilience-out`` (where run folders go, default ``runs/resilience``), ``--aftershock-cmd`` (the command
to run, default ``$AFTERSHOCK_CMD`` or ``python -m aftershock``).

Loaded by the repository's root ``conftest.py`` (``pytest_plugins = ["aftershock.pytest_plugin"]``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from aftershock.core.errors import AftershockError
from aftershock.core.runfolder import RUN_DIR_ENV

MARKER = "resilience"
CMD_ENV = "AFTERSHOCK_CMD"
RUN_DIR_KEY = pytest.StashKey[Path]()
"""The run folder of an experiment test (set once the run ended)."""
SUMMARY_KEY = pytest.StashKey[dict[str, Any]]()
"""The run's ``summary.json`` (empty when the run left none)."""


class ExperimentFailed(AftershockError):
    """An experiment run missed objectives, deviated, or did not finish (a test failure, not a usage error)."""

    exit_code = 1
    multiline = True  # pytest shows it as the test's failure: one finding per line


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aftershock", "aftershock resilience suite")
    group.addoption("--resilience", action="store_true", default=False,
                    help="Collect and run experiments/*.yaml as tests (also implied by -m resilience).")
    group.addoption("--target", action="store", default="lab",
                    help="Target of the resilience suite: `lab` or a target YAML file (default: lab).")
    group.addoption("--scenario", action="append", default=[], metavar="NAME_OR_TAG",
                    help="Only experiments whose scenario, file name or tag matches (repeatable).")
    group.addoption("--resilience-out", action="store", default=None, metavar="DIR",
                    help="Folder for the run folders (default: runs/resilience under the root dir).")
    group.addoption("--aftershock-cmd", action="store", default=None, metavar="CMD",
                    help=f"Command that runs experiments (default: ${CMD_ENV} or `python -m aftershock`).")
    group.addoption("--experiments-dir", action="store", default=None, metavar="DIR",
                    help="Folder of the experiments (default: experiments/ under the root dir).")


def _enabled(config: pytest.Config) -> bool:
    """``--resilience``, or a mark expression that names the marker without negating it."""
    if config.getoption("resilience"):
        return True
    tokens = str(config.getoption("markexpr", "") or "").replace("(", " ").replace(")", " ").split()
    return any(token == MARKER and (i == 0 or tokens[i - 1] != "not") for i, token in enumerate(tokens))


def _experiments_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("experiments_dir")
    return Path(chosen).resolve() if chosen else config.rootpath / "experiments"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a chaos experiment run against --target (pytest -m {MARKER})")
    if _enabled(config) and config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(_experiments_dir(config))]  # no paths given: the suite is the experiments


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if file_path.suffix in (".yaml", ".yml") and _enabled(config) \
            and file_path.parent.resolve() == _experiments_dir(config):
        collector: ExperimentFile = ExperimentFile.from_parent(parent, path=file_path)
        return collector
    return None


def _matches(item: ExperimentItem, wanted: list[str]) -> bool:
    names = {item.scenario, item.path.stem, *item.tags}
    return any(w in names for w in wanted)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("scenario")
    if not wanted:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (drop if isinstance(item, ExperimentItem) and not _matches(item, wanted) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class ExperimentFile(pytest.File):
    """One experiment file: one test."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            spec = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise self.CollectError(f"{self.path.name} is not valid YAML: {exc}") from exc
        configuration = spec.get("configuration") or {}
        scenario = str(configuration.get("aftershock_scenario") or self.path.stem)
        tags = tuple(str(t) for t in spec.get("tags") or ())
        yield ExperimentItem.from_parent(self, name=scenario, scenario=scenario, tags=tags,
                                         title=str(spec.get("title") or scenario))


class ExperimentItem(pytest.Item):
    """Runs one experiment with ``aftershock run`` and judges its exit code."""

    def __init__(self, *, scenario: str, tags: tuple[str, ...], title: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.tags = tags
        self.title = title
        self.add_marker(MARKER)
        self.extra_keyword_matches.update(tags)

    def _command(self) -> list[str]:
        chosen = self.config.getoption("aftershock_cmd") or os.environ.get(CMD_ENV)
        return shlex.split(chosen) if chosen else [sys.executable, "-m", "aftershock"]

    def _out_dir(self) -> Path:
        chosen = self.config.getoption("resilience_out")
        base = Path(chosen).resolve() if chosen else self.config.rootpath / "runs" / "resilience"
        return base / self.scenario

    def runtest(self) -> None:
        out = self._out_dir()
        out.mkdir(parents=True, exist_ok=True)
        before = {p.name for p in out.iterdir()}
        target = str(self.config.getoption("target"))
        command = [*self._command(), "run", str(self.path), "--target", target, "--out", str(out)]
        env = {k: v for k, v in os.environ.items() if k != RUN_DIR_ENV}
        started = time.time()
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        run_dir = _new_run_folder(out, before, started)
        self.add_report_section("call", "aftershock run", f"$ {shlex.join(command)}\n{result.stdout}"
                                f"{result.stderr}")
        summary: dict[str, Any] = {}
        if run_dir is not None:
            self.stash[RUN_DIR_KEY] = run_dir
            self.user_properties.append(("run_folder", str(run_dir)))
            summary = _reports(run_dir)
            _attach_to_allure(self.config, run_dir)
        self.stash[SUMMARY_KEY] = summary
        if result.returncode != 0:
            raise ExperimentFailed(_failure_message(self.scenario, target, result.returncode, summary, run_dir,
                                                    result.stderr))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        if isinstance(excinfo.value, ExperimentFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"experiment {self.scenario}: {self.title}"


def _new_run_folder(out: Path, before: set[str], started: float) -> Path | None:
    """The run folder the run created in ``out`` (the newest with a run.json)."""
    fresh = [p for p in out.iterdir() if p.is_dir() and p.name not in before and (p / "run.json").exists()]
    if not fresh:
        fresh = [p for p in out.iterdir() if p.is_dir() and (p / "run.json").exists()
                 and p.stat().st_mtime >= started - 1]
    return max(fresh, key=lambda p: p.stat().st_mtime) if fresh else None


def _reports(run_dir: Path) -> dict[str, Any]:
    """The run's summary; post-processes the run when it did not (e.g. it was killed: safety net, summary and
    reports, once - :func:`aftershock.finish.finish_run`)."""
    if not (run_dir / "report.html").exists():
        from aftershock.core.errors import AftershockError
        from aftershock.core.runfolder import RunFolder
        from aftershock.finish import finish_run

        with contextlib.suppress(AftershockError):  # no plan to finish from: the reports show what there is
            finish_run(RunFolder(run_dir), by="pytest plugin")
        if not (run_dir / "report.html").exists():
            from aftershock.reports.write import write_reports

            write_reports(run_dir)
    path = run_dir / "summary.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _failure_message(scenario: str, target: str, code: int, summary: dict[str, Any], run_dir: Path | None,
                     stderr: str) -> str:
    lines = [f"experiment {scenario} on {target}: aftershock run exited with {code}"]
    if not summary:
        lines.append("no summary.json: the run did not finish (partial run)")
        tail = stderr.strip().splitlines()[-5:]
        lines.extend(f"  {line}" for line in tail)
    for objective in summary.get("objectives") or []:
        if isinstance(objective, dict) and not objective.get("met"):
            measured = objective.get("measured")
            unit = objective.get("unit") or ""
            got = "not measured" if measured is None else f"measured {measured:g} {unit}"
            lines.append(f"objective missed: {objective.get('name')} {got} > target {objective.get('target'):g} "
                         f"{unit}")
    if summary.get("deviated"):
        lines.append("the steady state deviated")
        lines.extend(f"  {line}" for line in summary.get("deviations") or ())
    if summary and summary.get("status") not in (None, "completed"):
        lines.append(f"experiment status: {summary.get('status')}")
    lines.extend(f"error: {error}" for error in summary.get("errors") or [])
    if run_dir is not None:
        lines.append(f"run folder: {run_dir} (report: {run_dir / 'report.html'})")
    return "\n".join(lines)


def _attach_to_allure(config: pytest.Config, run_dir: Path) -> None:
    if not config.getoption("allure_report_dir", None):
        return
    try:
        import allure
    except ImportError:
        return
    from aftershock.reports.glossary import glossary_lines

    # the README's and the reports' wording; allure-pytest ships no type hints for it
    allure.dynamic.description("\n\n".join(glossary_lines()))  # type: ignore[no-untyped-call]
    kinds = {".json": allure.attachment_type.JSON, ".html": allure.attachment_type.HTML,
             ".md": allure.attachment_type.TEXT}
    for name in ("summary.json", "report.html", "report.md", "journal.json"):
        path = run_dir / name
        if path.exists():
            allure.attach(path.read_text(encoding="utf-8"), name=name, attachment_type=kinds[path.suffix])
    html = run_dir / "report.html"
    if html.exists():
        from aftershock.reports.charts import CHART_IDS

        text = html.read_text(encoding="utf-8")
        for chart_id in CHART_IDS:
            start = text.find(f'data-chart="{chart_id}"')
            if start < 0:
                continue
            begin = text.rfind("<svg", 0, start)
            end = text.find("</svg>", start) + len("</svg>")
            allure.attach(text[begin:end], name=f"chart-{chart_id}.svg", attachment_type=allure.attachment_type.SVG)


__all__ = ["MARKER", "RUN_DIR_KEY", "SUMMARY_KEY", "ExperimentFailed", "ExperimentFile", "ExperimentItem"]
