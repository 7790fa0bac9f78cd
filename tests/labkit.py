"""Helpers for tests that drive a real lab: start/stop, traffic, shop journeys, leftovers check."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aftershock.cli.lab import start_lab, stop_lab
from aftershock.lab.client import LabClient
from aftershock.lab.state import read_state


def processes_mentioning(text: str) -> list[int]:
    """PIDs of live (not zombie) processes whose command line contains ``text`` (leftovers of a lab or a run)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            pids.append(int(proc.name))
    return pids


@dataclass
class RunningLab:
    lab_dir: Path
    pid: int
    front_door: str
    client: LabClient
    proc: subprocess.Popen[bytes] | None = None
    """The supervisor, when this process started it: reaped by :meth:`stop`."""

    def status(self) -> dict[str, Any]:
        return self.client.get("status")

    def fault(self, path: str, **body: Any) -> dict[str, Any]:
        return self.client.post(path, body)

    def password(self) -> str:
        return str(json.loads((self.lab_dir / "secrets.json").read_text())["db_password"])

    def writer_dsn(self) -> str:
        status = self.status()
        return (f"host=127.0.0.1 port={status['endpoints']['db_writer']} dbname=shop user=shop "
                f"password={self.password()} connect_timeout=2")

    def events(self, since: float = 0.0) -> list[dict[str, Any]]:
        return list(self.client.get(f"events?since={since}")["events"])

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until every deployment has its desired replicas ready and the writer is in the primary."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            status = self.status()
            deps_ok = all(d["ready"] == d["desired"] and d["ready"] > 0 for d in status["deployments"])
            if deps_ok and status["database"]["writer"] and not status["azs_down"]:
                return status
            time.sleep(0.2)
        raise AssertionError(f"lab not healthy after {timeout} s: {json.dumps(status)[:2000]}")

    def back_to_baseline(self, timeout: float = 60.0) -> bool:
        """Undo what a test module left changed (the lab's own baseline restore) and wait until healthy; False
        when that fails (the caller then starts a fresh lab rather than hand over a broken one)."""
        try:
            self.fault("faults/restore-baseline")
            self.wait_healthy(timeout=timeout)
        except (AssertionError, httpx.HTTPError, OSError):
            return False
        return self.proc is None or self.proc.poll() is None

    def stop(self) -> None:
        self.client.close()
        stop_lab(self.lab_dir)
        if self.proc is not None:
            self.proc.wait(timeout=30)  # stop_lab killed it at the latest: reap it


def start_test_lab(lab_dir: Path, front_door: str = "global-accelerator") -> RunningLab:
    """A real lab in ``lab_dir`` (``front_door``: ``global-accelerator`` or ``route53-failover``)."""
    proc = start_lab(lab_dir, detach=True, front_door=front_door)
    state = read_state(lab_dir)
    assert state is not None
    return RunningLab(lab_dir, proc.pid, state.front_door_url, LabClient(state.control_url), proc)


@dataclass
class Traffic:
    """Bounded background traffic through the front door; records (start, ok, region) per request."""

    url: str
    path: str = "/api/products/1"
    fresh_connections: bool = True
    results: list[tuple[float, bool, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self, max_seconds: float = 120.0) -> None:
        deadline = time.monotonic() + max_seconds
        client = httpx.Client(timeout=2.0) if not self.fresh_connections else None
        while not self._stop.is_set() and time.monotonic() < deadline:
            start = time.time()
            try:
                if client is None:
                    response = httpx.get(self.url + self.path, timeout=2.0)
                else:
                    response = client.get(self.url + self.path)
                ok = response.status_code == 200
                region = response.headers.get("x-region", "")
            except httpx.HTTPError:
                ok, region = False, ""
            self.results.append((start, ok, region))
            time.sleep(0.02)
        if client:
            client.close()

    def ok_after(self, ts: float) -> list[tuple[float, bool, str]]:
        return [r for r in self.results if r[0] >= ts and r[1]]

    def wait_for(self, check: Callable[[list[tuple[float, bool, str]]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(list(self.results)):
                return True
            time.sleep(0.1)
        return False


class Shopper:
    """One logged-in shopper doing checkouts through the front door."""

    def __init__(self, url: str, n: int = 7, *, timeout: float = 20.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=5.0)
        deadline = time.monotonic() + timeout  # right after a fault the shop may answer 503 for a moment
        response = self.http.post("/api/login", json={"username": f"shopper-{n}", "password": f"pw-{n}"})
        while response.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            response = self.http.post("/api/login", json={"username": f"shopper-{n}", "password": f"pw-{n}"})
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['token']}"

    def checkout(self) -> httpx.Response:
        self.http.post("/api/cart/items", json={"product_id": 42, "quantity": 1}).raise_for_status()
        return self.http.post("/api/checkout")

    def close(self) -> None:
        self.http.close()


def write_short_az_outage(path: Path, *, users: int = 3) -> Path:
    """The bundled az-outage experiment at ``users`` users with 1 s windows and 30 s timeouts, written to ``path``
    (runs that are killed or broken on purpose need no more)."""
    import yaml

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "experiments" / "az-outage.yaml").read_text())
    data["configuration"]["aftershock_users"] = users
    for probe in data["steady-state-hypothesis"]["probes"]:
        probe["provider"]["arguments"]["window_s"] = 1
    for step in data["method"] + data["rollbacks"]:
        arguments = step["provider"].get("arguments") or {}
        for key, value in (("timeout_s", 30), ("sustain_s", 1)):
            if key in arguments:
                arguments[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
