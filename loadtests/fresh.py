"""The fresh-connection probe: one user opening a NEW TCP connection per request (``Connection: close``).

Keep-alive connections can hide a failover (a backend refusing new connections keeps serving old ones), so
this user is reported separately, as ``fresh:GET <path>``. Its paths and expected statuses come from the
target's ``load.probe`` (``--aftershock-transport``); without paths it alternates the shop's ``/health`` and a
product page (body checked). It sends the target's ``Host`` header and extra headers and speaks TLS to an
``https://`` host as ``load.http.tls`` says. Rate: ``load.probe.rate`` (``--fresh-rate`` for the built-in).

The probe paces and sends its requests in native threads (:class:`~aftershock.loadtests.native.PacedThread`: real
sleeps, blocking sockets, a fixed schedule), so journeys that saturate the gevent loop cannot starve it; the user's
greenlet only records each result (true start time and duration) in Locust's request event, where the timeline
sees it.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from gevent.queue import Empty, Queue
from locust import User, constant, task
from locust.exception import CatchResponseError

from aftershock.core.workload import ProbePath, TlsSettings
from aftershock.loadtests.journeys import PRODUCT_IDS, Validator, check_product
from aftershock.loadtests.native import PacedThread, TlsStream, native_connection
from aftershock.loadtests.transport import headers_of, ssl_context, transport_of

logger = logging.getLogger("aftershock.loadtests")


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


_context = functools.lru_cache(maxsize=4)(ssl_context)
"""The journeys' client context for these TLS settings (only its ``wrap_bio`` is used: no gevent socket)."""


def _connect(url: str, connect_timeout: float, tls: TlsSettings | None) -> tuple[socket.socket | TlsStream, str]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = native_connection(host, port, connect_timeout)
    if parts.scheme == "https":
        try:
            return TlsStream(sock, _context(tls or TlsSettings()), host), parts.netloc
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
    """GET over a brand-new TCP (or TLS) connection, read to EOF, with blocking sockets (call it from a native
    thread inside Locust). Raises OSError/TimeoutError."""
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


@dataclass(frozen=True)
class FreshResult:
    """One probe request as the native thread saw it: start (epoch s), duration and outcome."""

    path: str
    name: str
    start: float
    duration_ms: float
    length: int
    exception: BaseException | None


class FreshConnection(User):
    """One user opening a new connection per request, through the probe's paths in turn; the requests start in
    native threads at the probe's fixed rate (open loop: a slow answer does not delay the next request), this
    user's greenlet records them."""

    fixed_count = 1
    wait_time = constant(0)  # the task waits for the native thread's results

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        transport = transport_of(environment)
        self.connect_timeout = float(getattr(options, "connect_timeout", 2.0) or 2.0)
        self.response_timeout = float(getattr(options, "response_timeout", 5.0) or 5.0)
        self.paths = transport.probe.paths
        self.tls = transport.http.tls
        self.headers = headers_of(transport)
        self.rate = float(getattr(options, "fresh_rate", 0.0) or 0.0) or transport.probe.rate
        self._inbox: Queue[FreshResult] = Queue()
        self._paced: PacedThread[FreshResult] | None = None

    def on_start(self) -> None:
        longest_s = self.connect_timeout + self.response_timeout  # room for every request a timeout allows
        self._paced = PacedThread(self.rate, self._next_probe, self._inbox.put_nowait,
                                  max_in_flight=math.ceil(self.rate * longest_s) + 1)
        self._paced.start()

    def on_stop(self) -> None:
        if self._paced is not None:
            self._paced.stop()
            if self._paced.skipped:
                logger.warning("the fresh-connection probe skipped %d of its requests: %d were still running",
                               self._paced.skipped, self._paced.max_in_flight)
        self._fire_waiting()

    def _probe(self, path: str, name: str, expect: tuple[int, ...], check: Validator | None) -> FreshResult:
        """One request (in the native thread)."""
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
                    problem = check(orjson.loads(resp.body or b""))  # the journeys' parser: same verdicts
                except ValueError:
                    problem = "not JSON"
                if problem:
                    exception = FreshFailure(f"bad body: {problem}")
        except Exception as exc:  # whatever broke the request is its failure; the probe goes on
            exception = exc
        return FreshResult(path, name, start, (time.perf_counter() - started) * 1000.0, length, exception)

    def _next_probe(self, turn: int) -> FreshResult:
        """The configured paths in turn; by default GET /health and a product page, alternately."""
        if self.paths:
            path: ProbePath = self.paths[turn % len(self.paths)]
            return self._probe(path.path, path.request_name, path.expect, None)
        if turn % 2 == 0:
            return self._probe("/health", "fresh:GET /health", (200,), None)
        product_id = random.randint(*PRODUCT_IDS)
        return self._probe(f"/api/products/{product_id}", "fresh:GET /api/products/{id}", (200,),
                           check_product(product_id))

    @task
    def record(self) -> None:
        """Record what the native thread measured (with its own start time and duration) as Locust requests."""
        try:
            self._fire(self._inbox.get(timeout=0.5))
        except Empty:
            return
        self._fire_waiting()

    def _fire_waiting(self) -> None:
        while not self._inbox.empty():
            self._fire(self._inbox.get_nowait())

    def _fire(self, result: FreshResult) -> None:
        self.environment.events.request.fire(
            request_type="GET", name=result.name, response_time=result.duration_ms, response_length=result.length,
            exception=result.exception, context={}, start_time=result.start, url=result.path, response=None)


__all__ = ["FreshConnection", "FreshFailure", "FreshResponse", "FreshResult", "fresh_get"]
