"""The lab's authoritative DNS server (dnslib's server, UDP and TCP on one 127.0.0.1 port).

It answers for its zones only (anything else: REFUSED) and, as the clients' resolver would, follows a CNAME into
the zones it serves, so a stub resolver pointed at it gets the final addresses with the TTL of each record.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from dnslib import CNAME, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from aftershock.lab.dns.records import RecordSet, fqdn

# name, type -> the record set answered (None: the name has no such record), or KeyError: outside every zone
Lookup = Callable[[str, str], RecordSet | None]
Known = Callable[[str], bool | None]  # True: name exists, False: in a zone but absent, None: not ours

_MAX_CHAIN = 8
_DATA = {"A": A, "CNAME": CNAME, "TXT": TXT}


def _rrs(record: RecordSet) -> list[RR]:
    ttl = max(0, round(record.ttl_s))
    return [RR(record.name, getattr(QTYPE, record.type), ttl=ttl, rdata=_DATA[record.type](value))
            for value in record.values]


class _Resolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, lookup: Lookup, known: Known) -> None:
        self._lookup = lookup
        self._known = known

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = fqdn(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        if self._known(name) is None:
            reply.header.rcode = RCODE.REFUSED
            return reply
        for _ in range(_MAX_CHAIN):
            cname = self._lookup(name, "CNAME") if qtype != "CNAME" else None
            if cname is not None:
                reply.add_answer(*_rrs(cname))
                name = fqdn(cname.values[0])
                if self._known(name) is None:
                    return reply  # points outside the lab's zones: the client's resolver carries on
                continue
            found = self._lookup(name, qtype)
            if found is not None:
                reply.add_answer(*_rrs(found))
            elif not self._known(name):
                reply.header.rcode = RCODE.NXDOMAIN
            return reply
        return reply


class _Quiet(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


def free_dns_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``host``."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
            return port
    raise OSError(f"no port free for UDP and TCP on {host}")


class DnsServer:
    """UDP + TCP DNS on ``127.0.0.1:port`` answering from ``lookup``, until :meth:`stop`."""

    def __init__(self, lookup: Lookup, known: Known, port: int, host: str = "127.0.0.1") -> None:
        resolver = _Resolver(lookup, known)
        self.host, self.port = host, port
        self._servers: Sequence[Any] = [DNSServer(resolver, address=host, port=port, tcp=tcp, logger=_Quiet())
                                        for tcp in (False, True)]

    def start(self) -> None:
        for server in self._servers:
            server.start_thread()

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()


def query(name: str, qtype: str, host: str, port: int, timeout_s: float = 1.0) -> DNSRecord:
    """One UDP query (tests and the lab's own checks)."""
    return DNSRecord.parse(DNSRecord.question(name, qtype).send(host, port, timeout=timeout_s))


__all__ = ["DnsServer", "free_dns_port", "query"]
