"""Name resolution the way a client does it: ask a DNS server, keep the answer as long as the cache policy says.

``cache``: ``"ttl"`` (default: what a well-behaved resolver does), a number of seconds (a client that keeps
answers longer, whatever the TTL), or ``"forever"`` (a JVM with the default security manager: resolved once per
process). ``server``: ``"127.0.0.1:PORT"`` (the lab's DNS) or None (the system's resolver configuration).

Example::

    resolver = StubResolver("127.0.0.1:53535", cache="ttl")
    answer = resolver.resolve("shop.aftershock-lab.test")    # Answer(addresses=('127.0.1.1',), ttl_s=2, ...)
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import dns.exception
import dns.rdatatype
import dns.resolver

from aftershock.core.errors import UsageError

CachePolicy = Literal["ttl", "forever"] | float


def parse_cache(value: object) -> CachePolicy:
    """``"ttl"``, ``"forever"`` or seconds >= 0; :class:`UsageError` naming the setting otherwise."""
    if value in ("ttl", "forever"):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise UsageError(f"dns_cache {value!r} is not a cache policy: use ttl, forever or seconds (e.g. 300)")


def parse_server(server: str) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"resolver {server!r} is not HOST:PORT: use a form like 127.0.0.1:53535")
    return host, int(port)


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Answer:
    """What a name resolved to, with the TTL the server gave and when (monotonic seconds) it was asked."""

    name: str
    addresses: tuple[str, ...]
    ttl_s: float
    asked_at: float
    chain: tuple[str, ...] = ()
    """The CNAMEs followed on the way, in order."""


class StubResolver:
    """Resolves A records through ``server`` with a cache policy; thread-safe (one per client process)."""

    def __init__(self, server: str | None, *, cache: CachePolicy = "ttl", timeout_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.server = server
        self.cache = parse_cache(cache)
        self._clock = clock
        self._resolver = dns.resolver.Resolver(configure=server is None)
        if server is not None:
            host, port = parse_server(server)
            self._resolver.nameservers = [host]
            self._resolver.port = port
        self._resolver.lifetime = timeout_s
        self._resolver.cache = None  # our policy is the cache
        self._cached: dict[str, Answer] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"StubResolver(server={self.server!r}, cache={self.cache!r})"

    def _fresh(self, answer: Answer, now: float) -> bool:
        if self.cache == "forever":
            return True
        keep = answer.ttl_s if self.cache == "ttl" else float(self.cache)
        return now - answer.asked_at < keep

    def lookup(self, name: str) -> Answer:
        """Ask the server now (no cache); :class:`socket.gaierror` when the name does not resolve."""
        asked = self._clock()
        try:
            result = self._resolver.resolve(name, "A", search=False)
        except (dns.exception.DNSException, OSError) as exc:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: {exc.__class__.__name__}: {exc}") from exc
        rrset = result.rrset
        addresses = tuple(r.address for r in rrset) if rrset is not None else ()
        chain = tuple(str(rd.target).rstrip(".") for r in result.response.answer if r.rdtype == dns.rdatatype.CNAME
                      for rd in r)
        return Answer(name, addresses, float(rrset.ttl if rrset is not None else 0), asked, chain)

    def resolve(self, name: str) -> Answer:
        """The answer for ``name``, from the cache while the policy allows, else asked anew."""
        key = name.lower().rstrip(".")
        now = self._clock()
        with self._lock:
            cached = self._cached.get(key)
        if cached is not None and self._fresh(cached, now):
            return cached
        answer = self.lookup(key)
        with self._lock:
            self._cached[key] = answer
        return answer


__all__ = ["Answer", "CachePolicy", "StubResolver", "is_address", "parse_cache", "parse_server"]
