"""The run's workload in its plan: locustfile precedence (command line > experiment > target > built-in), the
target's ``load:`` settings under the experiment's, header secrets kept out of ``run.json`` and argv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aftershock.core.errors import UsageError
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.load.config import locust_argv
from aftershock.load.locustfile import BUILTIN_LOCUSTFILE, PLUGIN_FILE
from aftershock.load.planned import planned_load
from aftershock.planning import resolve_plan
from tests.runkit import write_target

REPO = Path(__file__).resolve().parents[3]
USERS = "from locust import FastHttpUser, task\n\n\nclass {name}(FastHttpUser):\n    @task\n    def t(self):\n" \
        "        self.client.get('/')\n"


def _file(folder: Path, name: str) -> Path:
    path = folder / f"{name.lower()}.py"
    path.write_text(USERS.format(name=name))
    return path


def _plan(tmp_path: Path, config: dict[str, Any], section: dict[str, Any] | None = None, **kw: Any) -> Any:
    target = write_target(tmp_path / "target.yaml", load=section or {})
    return resolve_plan(config, experiment="x.yaml", target_ref=str(target), experiment_dir=tmp_path / "exp", **kw)


def test_locustfile_precedence(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    target_file, exp_file, cli_file = _file(tmp_path, "Target"), _file(tmp_path / "exp", "Exp"), _file(tmp_path, "Cli")
    assert _plan(tmp_path, {}).load.locustfile is None  # the built-in shop journeys
    by_target = _plan(tmp_path, {}, {"locustfile": "target.py"})  # relative to the target file
    assert by_target.load.locustfile == str(target_file)
    by_experiment = _plan(tmp_path, {"aftershock_locustfile": "exp.py"}, {"locustfile": "target.py"})
    assert by_experiment.load.locustfile == str(exp_file)  # relative to the experiment file
    by_cli = _plan(tmp_path, {"aftershock_locustfile": "exp.py"}, {"locustfile": "target.py"}, locustfile=cli_file)
    assert by_cli.load.locustfile == str(cli_file)


def test_a_bad_locustfile_names_where_it_came_from(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    with pytest.raises(UsageError) as err:
        _plan(tmp_path, {}, {"locustfile": "gone.py"})
    assert str(err.value) == (f"locustfile {tmp_path / 'gone.py'} (from load.locustfile of target t) does not exist: "
                              "pass an existing Python file with Locust User classes")
    with pytest.raises(UsageError) as err:
        _plan(tmp_path, {"aftershock_locustfile": "gone.py"})
    assert str(err.value).startswith(f"locustfile {tmp_path / 'exp' / 'gone.py'} (from aftershock_locustfile) ")


def test_target_load_settings_sit_under_the_experiment_and_the_command_line(tmp_path: Path) -> None:
    load = {"users": 7, "shape": "spike", "task_rate": 0.5, "response_timeout_s": 3}
    plan = _plan(tmp_path, {}, load)
    assert (plan.load.users, plan.load.shape, plan.load.task_rate, plan.load.response_timeout_s) == (7, "spike", 0.5,
                                                                                                     3)
    plan = _plan(tmp_path, {"aftershock_users": 9}, load, load={"shape": "step"})
    assert (plan.load.users, plan.load.shape) == (9, "step")


def test_header_secrets_stay_out_of_run_json_and_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_KEY", "value-that-must-not-leak")
    load = {"probe": {"paths": ["/ping", {"path": "/api/books", "expect": [200, 304]}]},
            "http": {"headers": {"X-Api-Key": {"from_env": "SHOP_KEY"}}, "tls": {"verify": False}}}
    plan = _plan(tmp_path, {}, load)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    write_plan(run, plan)
    text = run.file("run.json").read_text()
    assert "SHOP_KEY" in text and "value-that-must-not-leak" not in text
    config = planned_load(plan, run.path)
    assert [p.request_name for p in config.transport.probe.paths] == ["fresh:GET /ping", "fresh:GET /api/books"]
    argv = locust_argv(config)
    assert argv[argv.index("-f") + 1] == str(BUILTIN_LOCUSTFILE)
    assert "value-that-must-not-leak" not in " ".join(argv)
    mine = planned_load(plan.model_copy(update={"load": plan.load.model_copy(update={"locustfile": "/x/mine.py"})}),
                        run.path)
    argv = locust_argv(mine)
    assert argv[argv.index("-f") + 1] == f"/x/mine.py,{PLUGIN_FILE}"


def test_run_with_a_bad_locustfile_exits_2_and_injects_nothing(tmp_path: Path) -> None:
    target = write_target(tmp_path / "target.yaml")
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    out = tmp_path / "runs"
    done = subprocess.run([sys.executable, "-m", "aftershock", "run", "pod-kill", "--target", str(target),
                           "--locustfile", str(bad), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, cwd=REPO, check=False, env=dict(os.environ))
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: locustfile {bad} (from --locustfile) defines no Locust User class: add "
                                   "one, e.g. class Shop(FastHttpUser) with @task methods")
    assert not out.exists()
