"""deploy/kubernetes/locust-workers.yaml: the parameters its header names render a valid Deployment whose
container runs `aftershock worker` (the Dockerfile's entry point) with arguments the command accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

import yaml

from aftershock.cli.worker import worker_command

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "kubernetes" / "locust-workers.yaml"
PARAMS = {"IMAGE": "registry.example/aftershock:1", "MASTER_HOST": "10.0.1.25", "MASTER_PORT": "5557",
          "WORKERS": "20"}


def test_the_manifest_renders_a_worker_deployment() -> None:
    text = MANIFEST.read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert set(re.findall(r"\$\{(\w+)\}", body)) == set(PARAMS)  # the header's command sets every one
    header = text.split("apiVersion")[0]
    assert all(f"{name}=" in header for name in PARAMS)
    deployment = yaml.safe_load(Template(text).substitute(PARAMS))
    assert deployment["kind"] == "Deployment" and deployment["spec"]["replicas"] == 20
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == PARAMS["IMAGE"]
    args = container["args"]
    assert args[0] == "worker"
    ctx = worker_command.make_context("worker", args[1:])  # the real command's parser accepts them
    assert ctx.params == {"master_host": "10.0.1.25", "master_port": 5557, "locustfile": None}
    assert container["resources"]["limits"]["cpu"] == "1"


def test_the_image_runs_the_aftershock_command() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    entry = next(line for line in lines if line.startswith("ENTRYPOINT"))
    assert json.loads(entry.removeprefix("ENTRYPOINT").strip()) == ["aftershock"]
    assert any(line.startswith("USER ") and line.split()[1] != "0" for line in lines)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "runs"} <= set(ignored)
