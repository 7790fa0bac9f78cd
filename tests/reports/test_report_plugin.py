"""The resilience pytest plugin with a fake ``aftershock`` command (never the real lab)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

FAKE_AFTERSHOCK = r'''
"""Fake `aftershock run FILE --target T --out DIR`: writes a run folder; fails experiments named *-fails."""
import json, sys, time
from pathlib import Path

args = sys.argv[1:]
assert args[0] == "run", args
experiment = Path(args[1])
target = args[args.index("--target") + 1]
out = Path(args[args.index("--out") + 1])
run_dir = out / f"20261121T120000Z-{experiment.stem}"
run_dir.mkdir(parents=True)
fails = experiment.stem.endswith("-fails")
(run_dir / "run.json").write_text(json.dumps({"scenario": experiment.stem, "target": target,
                                              "started_at": time.time(), "objectives": {"rto_s": 10.0}}))
if experiment.stem.endswith("-killed"):
    sys.exit("harness killed")
rto = 42.0 if fails else 3.0
(run_dir / "journal.json").write_text(json.dumps({"status": "completed", "deviated": False}))
(run_dir / "summary.json").write_text(json.dumps({
    "scenario": experiment.stem, "disruption": "application", "target": target, "status": "completed",
    "deviated": False, "passed": not fails, "partial": False, "figures": {"rto_s": rto},
    "objectives": [{"name": "rto_s", "target": 10.0, "measured": rto, "met": not fails, "unit": "s"}],
    "errors": [], "exit_code": int(fails)}))
print(f"run folder: {run_dir}")
sys.exit(1 if fails else 0)
'''

EXPERIMENT = "title: {title}\ntags: [{tags}]\nconfiguration:\n  aftershock_scenario: {name}\n"


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("AFTERSHOCK_HOME", str(tmp_path / "home"))
    fake = tmp_path / "fake_aftershock.py"
    fake.write_text(FAKE_AFTERSHOCK)
    monkeypatch.setenv("AFTERSHOCK_CMD", f"{sys.executable} {fake}")
    experiments = pytester.mkdir("experiments")
    for name, tags in (("pod-kill", "eks, pods"), ("writer-fails", "aurora"), ("az-killed", "az")):
        (experiments / f"{name}.yaml").write_text(EXPERIMENT.format(title=f"{name} title", tags=tags, name=name))
    pytester.makepyfile(test_unit="def test_unit():\n    assert True\n")
    return pytester


def test_not_collected_without_the_marker(suite: pytest.Pytester) -> None:
    result = suite.runpytest("test_unit.py")
    result.assert_outcomes(passed=1)
    result = suite.runpytest("-m", "not resilience")
    result.assert_outcomes(passed=1)


def test_runs_each_experiment_and_reports_missed_objectives(suite: pytest.Pytester, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = suite.runpytest("-m", "resilience", "--target", "lab",
                             "--resilience-out", str(out))
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "experiment az-killed on lab: aftershock run exited with 1",
        "no summary.json: the run did not finish (partial run)",
        "*",
        "experiment writer-fails on lab: aftershock run exited with 1",
        "objective missed: rto_s measured 42 s > target 10 s",
    ])
    killed = next((out / "az-killed").iterdir())
    assert 'data-verdict="PARTIAL"' in (killed / "report.html").read_text()  # rendered by the plugin
    assert (out / "pod-kill" / "20261121T120000Z-pod-kill" / "junit.xml").exists()


def test_scenario_filter_by_name_or_tag(suite: pytest.Pytester, tmp_path: Path) -> None:
    result = suite.runpytest("--resilience", "--scenario", "pods",
                             "--scenario", "az-killed", "--resilience-out", str(tmp_path / "runs"))
    result.assert_outcomes(passed=1, failed=1, deselected=1)


def test_allure_attachments(suite: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("allure_pytest")
    results = tmp_path / "allure"
    result = suite.runpytest("-m", "resilience", "--scenario", "pod-kill",
                             "--resilience-out", str(tmp_path / "runs"), f"--alluredir={results}")
    result.assert_outcomes(passed=1, deselected=2)
    [test_result] = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    names = {a["name"] for a in test_result["attachments"]}
    assert {"summary.json", "report.html", "journal.json", "chart-throughput.svg"} <= names
    from aftershock.reports.glossary import glossary_lines

    assert test_result["description"] == "\n\n".join(glossary_lines())
