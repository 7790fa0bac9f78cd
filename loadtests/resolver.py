"""Clients that resolve like real ones: every Locust process looks names up through the target's resolver.

A Locust process asks its operating system for addresses (``getaddrinfo``) whenever it opens a connection: the
journeys when their keep-alive connection is closed (an ALB's keep-alive duration), the fresh-connection probe on
every request. :func:`install` puts the target's resolver behind that call for names (addresses and
``localhost`` are left alone), the way ``/etc/resolv.conf`` and the C library's cache would:

* ``load.resolver`` (``HOST:PORT``): the DNS server asked (the lab's Route 53); none: the system's servers;
* ``load.dns_cache``: ``ttl`` (default), seconds, or ``forever`` - one cache per process, as a JVM keeps one.

So a client connects exactly to what DNS answered, and after a DNS failover it moves only when its cache lets it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from aftershock.core.resolver import StubResolver, is_address
from aftershock.core.workload import Transport

GetAddrInfo = Callable[..., list[Any]]
_INSTALLED = "_aftershock_resolver"


def _hooked(original: GetAddrInfo, resolver: StubResolver) -> GetAddrInfo:
    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if not name or is_address(name) or name == "localhost" or family == socket.AF_INET6:
            return original(host, port, family, type, proto, flags)
        answer = resolver.resolve(name)  # socket.gaierror when it does not resolve: a failed connection
        number = int(port) if port not in (None, "") else 0
        return [(socket.AF_INET, type or socket.SOCK_STREAM, proto or socket.IPPROTO_TCP, "", (address, number))
                for address in answer.addresses]

    setattr(getaddrinfo, _INSTALLED, resolver)
    return getaddrinfo


def installed() -> StubResolver | None:
    """The resolver :func:`install` put behind this process's lookups (None: the system's, with TTL caching)."""
    current = getattr(socket.getaddrinfo, _INSTALLED, None)
    return current if isinstance(current, StubResolver) else None


def install(transport: Transport) -> StubResolver | None:
    """Resolve this process's names through ``transport``'s resolver and cache policy (once per process);
    nothing to do (None) when the target uses the system's resolver with TTL caching."""
    current = getattr(socket.getaddrinfo, _INSTALLED, None)
    if isinstance(current, StubResolver):
        return current
    if transport.resolver is None and transport.dns_cache == "ttl":
        return None
    resolver = StubResolver(transport.resolver, cache=transport.dns_cache)
    socket.getaddrinfo = _hooked(socket.getaddrinfo, resolver)
    try:
        import gevent.socket
    except ImportError:  # pragma: no cover - Locust always brings gevent
        return resolver
    gevent.socket.getaddrinfo = _hooked(gevent.socket.getaddrinfo, resolver)
    return resolver


__all__ = ["install", "installed"]
