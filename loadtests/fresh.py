"""The fresh-connection probe: one user opening a NEW TCP connection per request (``Connection: close``).

Keep-alive connections can hide a failover (a backend refusing new connections keeps serving old ones), so
this user is reported separately, as ``fresh:GET <path>``. Its paths and expected statuses come from the
target's ``load.probe`` (``--aftershock-transport``); without paths it alternates the shop's ``/health`` and a
product page (body checked). It sends the target's ``Host`` header and extra headers and speaks TLS to an
``https://`` host as ``load.http.tls`` says. Rate: ``load.probe.rate`` (``--fresh-rate`` for the built-in).
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from locust import User, constant_throughput, task
from locust.exception import CatchResponseError

from aftershock.core.workload import ProbePath, TlsSettings
from aftershock.loadtests.journeys import PRODUCT_IDS, Validator, check_product
from aftershock.loadtests.transport import headers_of, ssl_context, transport_of


class FreshResponse:
    """Status and body of one request over its own connection."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while True:
        line, _, rest = data.partition(b"\r\n")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += rest[:size]
        data = rest[size + 2 :]


def _connect(url: str, connect_timeout: float, tls: TlsSettings | None) -> tuple[socket.socket, str]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = socket.create_connection((host, port), timeout=connect_timeout)
    if parts.scheme == "https":
        try:
            sock = ssl_context(tls or TlsSettings()).wrap_socket(sock, server_hostname=host)
        except (OSError, ssl.SSLError):
            sock.close()
            raise
    return sock, parts.netloc


def _parse(raw: bytes) -> FreshResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionAbortedError("connection closed before a complete response head")
    lines = head.decode("latin-1").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[1].isdigit():
        raise ConnectionAbortedError(f"bad status line {lines[0][:40]!r}")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return FreshResponse(int(status_parts[1]), headers, body)


def fresh_get(url: str, path: str, *, connect_timeout: float, response_timeout: float,
              headers: dict[str, str] | None = None, tls: TlsSettings | None = None) -> FreshResponse:
    """GET over a brand-new TCP (or TLS) connection, read to EOF. Raises OSError/TimeoutError."""
    sock, netloc = _connect(url, connect_timeout, tls)
    extra = dict(headers or {})
    host = extra.pop("Host", netloc)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: close", "Accept: application/json",
             "User-Agent: aftershock-fresh-connection", *(f"{k}: {v}" for k, v in extra.items())]
    try:
        sock.settimeout(response_timeout)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        chunks = []
        deadline = time.monotonic() + response_timeout
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError("response took longer than --response-timeout")
    finally:
        sock.close()
    return _parse(b"".join(chunks))


class FreshFailure(CatchResponseError):
    """A fresh-connection request that got an answer, but the wrong one (``http 503``, ``bad body: ...``)."""


class FreshConnection(User):
    """One user opening a new connection per request, through the probe's paths in turn."""

    fixed_count = 1

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        transport = transport_of(environment)
        self.connect_timeout = float(getattr(options, "connect_timeout", 2.0) or 2.0)
        self.response_timeout = float(getattr(options, "response_timeout", 5.0) or 5.0)
        self.paths = transport.probe.paths
        self.tls = transport.http.tls
        self.headers = headers_of(transport)
        rate = float(getattr(options, "fresh_rate", 0.0) or 0.0) or transport.probe.rate
        self._pacer = constant_throughput(rate)
        self._turn = 0

    def wait_time(self) -> float:
        """The probe's rate in requests per second, whatever the service does."""
        return float(self._pacer(self))

    def _fire(self, path: str, name: str, start: float, started: float, length: int,
              exception: BaseException | None) -> None:
        self.environment.events.request.fire(
            request_type="GET", name=name, response_time=(time.perf_counter() - started) * 1000.0,
            response_length=length, exception=exception, context={}, start_time=start, url=path, response=None)

    def _probe(self, path: str, name: str, expect: tuple[int, ...], check: Validator | None) -> None:
        start = time.time()
        started = time.perf_counter()
        exception: BaseException | None = None
        length = 0
        try:
            resp = fresh_get(self.host or "", path, connect_timeout=self.connect_timeout,
                             response_timeout=self.response_timeout, headers=self.headers, tls=self.tls)
            length = len(resp.body)
            if resp.status not in expect:
                exception = FreshFailure(f"http {resp.status}")
            elif check is not None:
                try:
                    problem = check(json.loads(resp.body or b""))
                except ValueError:
                    problem = "not JSON"
                if problem:
                    exception = FreshFailure(f"bad body: {problem}")
        except (OSError, ValueError) as exc:
            exception = exc
        self._fire(path, name, start, started, length, exception)

    def _next_path(self) -> ProbePath:
        path = self.paths[self._turn % len(self.paths)]
        self._turn += 1
        return path

    @task
    def probe(self) -> None:
        """The configured paths in turn; by default GET /health and a product page, alternately."""
        if self.paths:
            path = self._next_path()
            self._probe(path.path, path.request_name, path.expect, None)
            return
        self._turn += 1
        if self._turn % 2:
            self._probe("/health", "fresh:GET /health", (200,), None)
        else:
            product_id = random.randint(*PRODUCT_IDS)
            self._probe(f"/api/products/{product_id}", "fresh:GET /api/products/{id}", (200,),
                        check_product(product_id))


__all__ = ["FreshConnection", "FreshFailure", "FreshResponse", "fresh_get"]
