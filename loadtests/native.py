"""The unpatched standard library, for work that must not wait for the gevent loop (the fresh-connection probe).

Inside Locust, gevent's monkey-patching turns sockets, ``time.sleep``, locks and threads into greenlet
operations: when the journeys saturate the loop, a paced greenlet wakes late and its requests start late (at
200 unpaced users the probe fell from 20 to 2-4 requests/s). :class:`PacedThread` paces a job from a native
thread (real sleeps), runs each in a native thread of its own (blocking sockets; :class:`TlsStream` for TLS) and
hands each result to the gevent loop with ``run_callback_threadsafe``; the job measures its own start and
duration, so what the loop records later is true.

The helpers take the originals from :func:`gevent.monkey.get_original`; outside a patched process they are the
standard library itself. Name resolution keeps the behaviour of :mod:`aftershock.loadtests.resolver`: names go to
the target's resolver (with its cache policy) when one is installed, addresses and ``localhost`` to the system.
"""

from __future__ import annotations

import _socket
import functools
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import gevent
from gevent.monkey import get_original

from aftershock.core.resolver import is_address
from aftershock.loadtests import resolver

T = TypeVar("T")

_start_thread: Callable[..., int] = get_original("_thread", "start_new_thread")
_allocate_lock: Callable[[], Any] = get_original("_thread", "allocate_lock")
_Socket: type[socket.socket] = get_original("socket", "socket")


def native_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` results for ``host`` as this process's clients resolve it, without the gevent loop."""
    stub = resolver.installed()
    if stub is None or not host or is_address(host) or host == "localhost":
        return _socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    answer = stub.resolve(host)  # socket.gaierror when it does not resolve: a failed connection
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in answer.addresses]


def native_connection(host: str, port: int, timeout: float) -> socket.socket:
    """A blocking TCP connection to the first address of ``host`` that accepts (as ``socket.create_connection``)."""
    error: OSError | None = None
    for family, kind, proto, _, address in native_addresses(host, port):
        sock = _Socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} resolved to no address")


class TlsStream:
    """TLS over a blocking socket through memory BIOs: in a patched process the standard ``SSLSocket`` and
    ``SSLContext`` are gevent's and cannot wrap an original socket, but any context's ``wrap_bio`` works without
    one. The subset of the socket interface the fresh-connection probe uses; a server that closes without a TLS
    close-notify ends the stream like a plain EOF, as ``suppress_ragged_eofs`` does."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str) -> None:
        self.sock = sock
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._pump(self._tls.do_handshake)

    def _pump(self, step: Callable[[], T]) -> T:
        while True:
            try:
                result = step()
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(65536)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.sock.sendall(data)

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._pump(functools.partial(self._tls.write, view)):]

    def recv(self, size: int) -> bytes:
        try:
            return self._pump(functools.partial(self._tls.read, size))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def close(self) -> None:
        self.sock.close()


class PacedThread(Generic[T]):
    """Starts ``job(turn)`` ``rate`` times per second (turn 0, 1, 2, ...) from a native thread, each in a native
    thread of its own, and calls ``deliver(result)`` on the gevent loop of the thread that created it.

    Open loop: starts follow a fixed schedule whatever the service does (a slow answer does not delay the next
    start; a wake-up late by less than a period is made up by the next one, a longer stall moves the schedule
    instead of bursting to catch up), with at most ``max_in_flight`` jobs
    running (a start that would exceed it is skipped and counted in :attr:`skipped`). :meth:`stop` wakes the
    pacer at once; running jobs finish and deliver. Example::

        paced = PacedThread(20.0, probe_once, inbox.put_nowait)
        paced.start()
        ...
        paced.stop()
    """

    def __init__(self, rate: float, job: Callable[[int], T], deliver: Callable[[T], None], *,
                 max_in_flight: int = 32) -> None:
        if not rate > 0 or max_in_flight < 1:
            raise ValueError(f"rate={rate} and max_in_flight={max_in_flight} must be positive")
        self.period_s = 1.0 / rate
        self.max_in_flight = max_in_flight
        self.skipped = 0
        self._job = job
        self._deliver = deliver
        self._loop = gevent.get_hub().loop
        self._stopped = _allocate_lock()
        self._stopped.acquire()  # released by stop(): the pacer's sleep is a wait on it
        self._count_lock = _allocate_lock()
        self._in_flight = 0
        self.running = False

    def __repr__(self) -> str:
        return f"PacedThread(rate={1.0 / self.period_s:g}, running={self.running}, in_flight={self._in_flight})"

    def start(self) -> None:
        self.running = True
        _start_thread(self._pace, ())

    def stop(self) -> None:
        if self.running:
            self.running = False
            self._stopped.release()

    def _pace(self) -> None:
        due = time.monotonic()
        turn = 0
        while self.running:
            with self._count_lock:
                room = self._in_flight < self.max_in_flight
                self._in_flight += room
            if room:
                _start_thread(self._run_one, (turn,))
                turn += 1
            else:
                self.skipped += 1
            due += self.period_s
            now = time.monotonic()
            if due < now - self.period_s:  # more than a period behind (a long stall): move the schedule, no burst
                due = now
            if self._stopped.acquire(timeout=max(0.0, due - now)):
                break
        self.running = False

    def _run_one(self, turn: int) -> None:
        try:
            result = self._job(turn)
            self._loop.run_callback_threadsafe(self._deliver, result)
        finally:
            with self._count_lock:
                self._in_flight -= 1
            _drop_thread_hub()


def _drop_thread_hub() -> None:
    """gevent made a hub for this thread if the job used a patched call (the resolver's DNS query): free it."""
    from gevent._hub_local import get_hub_if_exists

    hub = get_hub_if_exists()
    if hub is not None:
        hub.destroy(destroy_loop=True)


__all__ = ["PacedThread", "TlsStream", "native_addresses", "native_connection"]
