"""``aftershock load`` with the user's own locustfile and the target's ``load:`` section (probe, headers, TLS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from aftershock.core.timeline.store import read_timeline
from tests.loadtests.loadkit import REPO, StandinShop
from tests.runkit import target_data

CLI = [sys.executable, "-m", "aftershock", "load"]
SECRET = "s3cr3t-value-9f1c"

JOURNEYS = '''
from locust import FastHttpUser, HttpUser, constant_throughput, task


class Reader(FastHttpUser):
    wait_time = constant_throughput(10)

    @task
    def search(self):
        self.client.get("/api/search?q=book&limit=3", name="BOOKS search")


class Admin(HttpUser):
    wait_time = constant_throughput(5)

    @task
    def health(self):
        self.client.get("/health", name="BOOKS health")
'''

MINE = '''
from locust import FastHttpUser, constant_throughput, task


class Mine(FastHttpUser):
    wait_time = constant_throughput(10)

    @task
    def search(self):
        self.client.get("/api/search?q=mine", name="MINE search")
'''


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False,
                          env={**os.environ, **(env or {})})


def write_target(folder: Path, url: str, load: dict[str, object]) -> Path:
    path = folder / "books.yaml"
    data = target_data(front_door={"url": url, "endpoint_groups": [
        {"region": "us-east-1", "traffic_dial": 100, "load_balancer": "alb-e"}]}, load=load)
    data["name"] = "books"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_own_journeys_probe_path_and_env_header(shop: StandinShop, tmp_path: Path) -> None:
    (tmp_path / "journeys.py").write_text(JOURNEYS)
    target = write_target(tmp_path, shop.url, {
        "locustfile": "journeys.py",  # relative to the target file
        "users": 5,
        "probe": {"rate": 10, "paths": [{"path": "/api/search?q=probe", "expect": [200]}]},
        "http": {"host_header": "books.example", "headers": {"X-Api-Key": {"from_env": "BOOKS_API_KEY"},
                                                              "X-Team": "chaos"}},
    })
    out = tmp_path / "run"
    done = run_cli("--target", str(target), "--duration", "3s", "--out", str(out), env={"BOOKS_API_KEY": SECRET})
    assert done.returncode == 0, done.stderr
    timeline = read_timeline(out)
    assert set(timeline.names) == {"BOOKS search", "BOOKS health", "fresh:GET /api/search?q=probe"}
    assert timeline.failures == 0
    assert "BOOKS search" in done.stdout and "fresh:GET /api/search?q=probe" in done.stdout
    seen = httpx.get(f"{shop.url}/__headers", timeout=5).json()
    assert seen["x-api-key"] == [SECRET] and seen["x-team"] == ["chaos"]  # FastHttpUser, HttpUser and the probe
    assert "books.example" in seen["host"]
    record = json.loads((out / "load.json").read_text())
    assert record["args"]["transport"]["http"]["headers"]["X-Api-Key"] == {"from_env": "BOOKS_API_KEY"}
    leaked = [p for p in out.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [], "the header's value must never reach the run folder"


def test_locustfile_option_wins_over_the_target(shop: StandinShop, tmp_path: Path) -> None:
    (tmp_path / "journeys.py").write_text(JOURNEYS)
    mine = tmp_path / "mine.py"
    mine.write_text(MINE)
    target = write_target(tmp_path, shop.url, {"locustfile": "journeys.py", "users": 3})
    out = tmp_path / "run"
    done = run_cli("--target", str(target), "--locustfile", str(mine), "--duration", "2s", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert set(read_timeline(out).names) == {"MINE search", "fresh:GET /health", "fresh:GET /api/products/{id}"}


@pytest.mark.parametrize(
    ("name", "source", "problem"),
    [
        ("missing.py", None, "does not exist: pass an existing Python file with Locust User classes"),
        ("nouser.py", "x = 1\n", "defines no Locust User class: add one, e.g. class Shop(FastHttpUser) with @task "
                                 "methods"),
        ("broken.py", "def f(:\n    pass\n", "has a syntax error on line 1 (invalid syntax): fix the file"),
        ("failing.py", "import no_such_module_here\n", "cannot be loaded (ModuleNotFoundError: No module named "
                                                        "'no_such_module_here'): fix the file"),
    ],
)
def test_a_bad_locustfile_exits_2_before_anything_starts(shop: StandinShop, tmp_path: Path, name: str,
                                                         source: str | None, problem: str) -> None:
    path = tmp_path / name
    if source is not None:
        path.write_text(source)
    out = tmp_path / "run"
    done = run_cli("--url", shop.url, "--locustfile", str(path), "--out", str(out), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: locustfile {path} (from --locustfile) {problem}"
    assert not out.exists() and shop.served() == 0


def test_a_header_whose_variable_is_unset_exits_2(shop: StandinShop, tmp_path: Path) -> None:
    target = write_target(tmp_path, shop.url, {"http": {"headers": {"X-Api-Key": {"from_env": "UNSET_KEY_42"}}}})
    env = {k: v for k, v in os.environ.items() if k != "UNSET_KEY_42"}
    done = subprocess.run([*CLI, "--target", str(target), "--out", str(tmp_path / "run")], capture_output=True,
                          text=True, timeout=60, cwd=REPO, check=False, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: target books: load.http.headers needs the environment variable of "
                                   "X-Api-Key (UNSET_KEY_42): export it before the run")
