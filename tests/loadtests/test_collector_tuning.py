"""Every Locust process aftershock drives runs with the collector tuned (start-up objects frozen, thresholds
raised), whatever locustfile the user brings: the state is read from inside the running Locust process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from aftershock.loadtests.collector import THRESHOLDS
from tests.loadtests.loadkit import PYTHON, REPO

OWN_FILE = '''
import gc, json, os
from locust import User, constant, events, task

@events.test_start.add_listener
def record(environment, **_kw):
    with open(os.environ["GC_STATE_FILE"], "w") as out:
        json.dump({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}, out)

class Idle(User):
    wait_time = constant(0.1)

    @task
    def nothing(self):
        pass
'''


@pytest.mark.timeout(90)
@pytest.mark.parametrize("plugin", [True, False], ids=["with-aftershock-plugin", "plain-locust"])
def test_the_collector_is_tuned_in_locust_processes_aftershock_drives(tmp_path: Path, plugin: bool) -> None:
    own = tmp_path / "own.py"
    own.write_text(OWN_FILE)
    files = f"{own},{REPO / 'loadtests' / 'aftershock_plugin.py'}" if plugin else str(own)
    state = tmp_path / "gc.json"
    extra = ["--fresh-rate", "0.1"] if plugin else []
    done = subprocess.run([PYTHON, "-m", "locust", "-f", files, "--headless", "-H", "http://127.0.0.1:9", "-u", "1",
                           "-r", "1", "-t", "1s", "--only-summary", "--exit-code-on-error", "0", *extra],
                          cwd=REPO, check=False, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GC_STATE_FILE": str(state)})
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = json.loads(state.read_text())
    if plugin:
        assert tuple(recorded["threshold"]) == THRESHOLDS and recorded["frozen"] > 10_000
    else:  # the comparison that shows the check can fail: Locust alone keeps Python's defaults
        assert tuple(recorded["threshold"]) != THRESHOLDS and recorded["frozen"] == 0
