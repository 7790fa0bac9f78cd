"""Helpers for the Envoy tests: tiny real backends (HTTP pods, TCP databases) and a running EnvoyProxy.

Imported explicitly by ``test_envoy_*.py`` (not a conftest plugin, so it stays out of other tests).
"""

from __future__ import annotations

import collections
import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from aftershock.core import procs
from aftershock.lab.envoy import Endpoint, EnvoyLayout, EnvoyProxy, HealthCheckSettings
from aftershock.lab.envoy.models import ALB_LAB_HEALTH, GA_LAB_HEALTH
from aftershock.lab.events import EventLog
from aftershock.lab.topology import region_of_az

SLOW = 30.0  # generous bound for anything that waits on health checks (2 shared cores)


class Pod:
    """A shop pod stand-in: ``/ready`` and ``/health`` answer the configured status; anything else 200 + X-Pod."""

    def __init__(self, name: str, az: str) -> None:
        self.name = name
        self.az = az
        self.region = region_of_az(az).name
        self.ready_status = 200
        self.health_status = 200
        pod = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = {"/ready": pod.ready_status, "/health": pod.health_status}.get(self.path, 200)
                body = pod.name.encode()
                self.send_response(status)
                self.send_header("X-Pod", pod.name)
                self.send_header("X-Region", pod.region)
                self.send_header("X-AZ", pod.az)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"pod-{name}", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.name, "127.0.0.1", int(self._server.server_address[1]), self.az)

    def down(self) -> None:
        """Fail both probes (the pod is unready and unhealthy)."""
        self.ready_status = self.health_status = 503

    def up(self) -> None:
        self.ready_status = self.health_status = 200

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Database:
    """A TCP stand-in for a DB instance: greets each connection with its name, then echoes."""

    def __init__(self, name: str, az: str = "us-east-1a") -> None:
        self.name = name
        self.az = az
        greeting = f"{name}\n".encode()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.sendall(greeting)
                with contextlib.suppress(OSError):
                    while data := self.request.recv(4096):
                        self.request.sendall(data)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"db-{name}", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.name, "127.0.0.1", int(self._server.server_address[1]), self.az)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def greeting_via(port: int, timeout: float = 5.0) -> tuple[socket.socket, str]:
    """Connect through a DB endpoint; return the open socket and the instance's greeting ("" when closed)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return sock, data.decode().strip()


class Lab:
    """A started EnvoyProxy plus the pods and databases a test makes; ``close()`` stops everything."""

    def __init__(
        self,
        root: Path,
        ga_health: HealthCheckSettings = GA_LAB_HEALTH,
        alb_health: HealthCheckSettings = ALB_LAB_HEALTH,
    ) -> None:
        self.events = EventLog(root / "events.jsonl")
        self.envoy = EnvoyProxy(EnvoyLayout.allocate(), root / "envoy", self.events, ga_health, alb_health)
        self.pods: list[Pod] = []
        self.databases: list[Database] = []
        self.client = httpx.Client(base_url=self.envoy.front_door_url, timeout=15.0, trust_env=False)
        self.start_seconds = self.envoy.start(timeout=SLOW)

    def pod(self, name: str, az: str) -> Pod:
        pod = Pod(name, az)
        self.pods.append(pod)
        return pod

    def database(self, name: str) -> Database:
        db = Database(name)
        self.databases.append(db)
        return db

    def register(self, region: str, pods: list[Pod]) -> None:
        self.envoy.set_alb_targets(region, [p.endpoint for p in pods])

    def get(self, path: str = "/shop") -> httpx.Response:
        return self.client.get(path)

    def pods_hit(self, count: int) -> collections.Counter[str]:
        """X-Pod of ``count`` front-door requests ("<status>" when a request got no pod)."""
        hits: collections.Counter[str] = collections.Counter()
        for _ in range(count):
            response = self.get()
            hits[response.headers.get("x-pod", f"<{response.status_code}>")] += 1
        return hits

    def regions_hit(self, count: int) -> collections.Counter[str]:
        hits: collections.Counter[str] = collections.Counter()
        for _ in range(count):
            response = self.get()
            hits[response.headers.get("x-region", f"<{response.status_code}>")] += 1
        return hits

    def healthy(self, cluster: str) -> set[str]:
        return self.envoy.healthy_hosts(cluster)

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = SLOW) -> float:
        """Seconds until ``check`` holds; fails the test with ``what`` after ``timeout``."""
        began = time.monotonic()
        assert procs.wait_until(check, timeout=timeout, interval=0.02), f"timed out after {timeout} s: {what}"
        return time.monotonic() - began

    def close(self) -> None:
        pid = self.envoy.pid
        self.client.close()
        self.envoy.stop()
        for pod in self.pods:
            pod.stop()
        for db in self.databases:
            db.stop()
        if pid is not None:
            assert procs.wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=5), f"Envoy {pid} left"


@contextlib.contextmanager
def running_lab(root: Path, **kwargs: Any) -> Iterator[Lab]:
    lab = Lab(root, **kwargs)
    try:
        yield lab
    finally:
        lab.close()


def serving_lab(root: Path) -> contextlib.AbstractContextManager[Lab]:
    """A lab with 3 ready pods per region (one per AZ) registered, both ALBs healthy as GA sees them."""

    @contextlib.contextmanager
    def build() -> Iterator[Lab]:
        with running_lab(root) as lab:
            for region in ("us-east-1", "us-west-2"):
                lab.register(region, [lab.pod(f"pod-{region}{az}", f"{region}{az}") for az in "abc"])
            lab.wait_for(
                lambda: len(lab.healthy("alb-us-east-1")) == 3 and len(lab.healthy("alb-us-west-2")) == 3,
                "3 healthy pods in each region",
            )
            both = {"alb-us-east-1", "alb-us-west-2"}
            lab.wait_for(
                lambda: lab.healthy("ga-via-us-east-1") == both == lab.healthy("ga-via-us-west-2"),
                "GA sees both ALBs healthy",
            )
            # Right after start Envoy's workers lag the admin view by one GA check interval (seen in 1.40).
            time.sleep(2 * lab.envoy.ga_health.interval_s)
            lab.wait_for(lambda: set(lab.regions_hit(3)) == {"us-east-1"}, "front door serves the primary")
            yield lab

    return build()
