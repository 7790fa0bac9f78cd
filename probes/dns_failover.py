"""The DNS-failover probe: how long until the shop's name resolves to the secondary, and until it is served there.

From the fault (the last applied ``fault.start``), every ``interval_s``:

* the harness resolves the name itself, through the target's resolver and without a cache (what an honest
  resolver sees at the source: Route 53's answer) - ``resolved_s`` is the first answer naming ``to_region``;
* one fresh-connection ``GET /health`` goes to the address just answered, with the name in ``Host``, as a client
  that follows DNS at once would send it - ``served_s`` is the first of ``consecutive`` answers in a row from
  ``to_region`` (``X-Region``), recorded as the run's traffic-shift measurement.

Its phases (returned and in the journal): ``detection_s`` until Route 53 saw the health check fail (the lab's
``dns.health_check_failed``; on AWS the same event from the sampler's Route 53 health-check status; unknown
where neither is recorded), ``propagation_s`` the record's TTL (how much longer a client that
honours it may still resolve the old region), and the RTO probe's phases split the traffic's outage the same way.
On AWS the sampler's view of Route 53 (checkers' health share, ``test_dns_answer``) is added when the driver has it.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from aftershock.core.dns_measurement import DnsAnswerSeen, DnsFailoverMeasurement, answer_changes
from aftershock.core.errors import AftershockError, FaultRefused
from aftershock.core.measurements import TrafficShiftMeasurement
from aftershock.core.resolver import StubResolver
from aftershock.core.route53 import Route53
from aftershock.faults.context import ActivityContext
from aftershock.faults.phases import PlatformEventSource
from aftershock.probes.live import last_fault_start, record

__all__ = ["measure_dns_failover"]


def _served_by(address: str, url: SplitResult) -> str | None:
    """X-Region of ``GET /health`` over a new connection to ``address`` (TLS with the URL's name for https)."""
    port = url.port or (443 if url.scheme == "https" else 80)
    name = url.hostname or ""
    conn: http.client.HTTPConnection
    try:
        if url.scheme == "https":
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(name, port, timeout=2.0, context=context)
            conn.sock = context.wrap_socket(socket.create_connection((address, port), timeout=2.0),
                                            server_hostname=name)  # connect where DNS answered, verify the name
        else:
            conn = http.client.HTTPConnection(address, port, timeout=2.0)
    except OSError:
        return None
    try:
        conn.request("GET", "/health", headers={"Host": url.netloc, "Connection": "close",
                                                "User-Agent": "aftershock-dns-failover"})
        response = conn.getresponse()
        return response.getheader("x-region") if response.status == 200 else None
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _detected_at(ctx: ActivityContext, since: float, until: float) -> float | None:
    if not isinstance(ctx.driver, PlatformEventSource):
        return None
    try:
        events, _ = ctx.driver.platform_events(since, until)
    except AftershockError:
        return None
    return next((e.ts for e in events if e.what.startswith("dns.health_check_failed")), None)


def _route53_view(ctx: ActivityContext) -> dict[str, Any] | None:
    route53 = getattr(ctx.driver, "route53", None)
    view = getattr(route53, "view", None)
    if view is None:
        return None
    try:
        return dict(view())
    except Exception as exc:  # the sampler's view is extra information: its failure is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"}


def _since(start: float | None, at: float | None) -> float | None:
    return None if start is None or at is None else round(max(0.0, at - start), 3)


@dataclass
class _Watch:
    """What the probe's loop saw (epoch seconds)."""

    resolved_at: float | None = None
    streak_start: float | None = None
    streak: int = 0
    requests: int = 0
    ttl_s: float | None = None
    seen: list[tuple[float, str | None, str | None]] = field(default_factory=list)


def _watch(dns: Route53, resolver: StubResolver, url: SplitResult, region: str, *, consecutive: int,
           interval_s: float, timeout_s: float) -> _Watch:
    watch = _Watch()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and watch.streak < consecutive:
        sent = time.time()
        address: str | None
        answered: str | None
        try:
            answer = resolver.lookup(dns.record)
            address, watch.ttl_s = answer.addresses[0], answer.ttl_s
            # an address (lab) or the ALB name a CNAME/alias led to (AWS)
            answered = dns.region_of(address) or dns.region_of(answer.chain[-1] if answer.chain else None)
        except (OSError, IndexError):
            address = answered = None
        watch.seen.append((sent, address, answered))
        if watch.resolved_at is None and answered == region:
            watch.resolved_at = sent
        served = _served_by(address, url) if address is not None else None
        watch.requests += 1
        watch.streak, watch.streak_start = ((watch.streak + 1, watch.streak_start or sent) if served == region
                                            else (0, None))
        time.sleep(interval_s)
    return watch


def measure_dns_failover(to_region: str = "", consecutive: int = 10, interval_s: float = 0.1,
                         timeout_s: float = 120.0, configuration: dict[str, Any] | None = None,
                         secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Seconds from the fault until the shop's name resolves to ``to_region`` (default: the secondary) and until
    ``consecutive`` fresh requests in a row to the answered address were served there; recorded as the run's
    DNS-failover measurement (summary.json ``dns``) and traffic shift."""
    with ActivityContext.from_configuration(configuration) as ctx:
        dns = ctx.target.front_door.dns
        if dns is None:
            raise FaultRefused(f"measure_dns_failover: target {ctx.target.name!r} has no front_door.dns")
        region = ctx.target.region(to_region).name if to_region else (
            ctx.target.secondary.name if ctx.target.secondary else ctx.target.primary.name)
        fault_at = last_fault_start(ctx.run) or time.time()
        watch = _watch(dns, StubResolver(ctx.target.load.resolver, cache=0.0), urlsplit(ctx.target.front_door.url),
                       region, consecutive=consecutive, interval_s=interval_s, timeout_s=timeout_s)
        shifted = watch.streak >= consecutive and watch.streak_start is not None
        detected_at = _detected_at(ctx, fault_at, time.time())
        view = _route53_view(ctx)
    measurement = record(ctx.run, TrafficShiftMeasurement(
        ts=time.time(), to_region=region, shifted=shifted, requests=watch.requests,
        shift_s=_since(fault_at, watch.streak_start) if shifted else None))
    answers = answer_changes([DnsAnswerSeen(at_s=_since(fault_at, at) or 0.0, answer=address, region=answered)
                              for at, address, answered in watch.seen])
    ttl_s = watch.ttl_s if watch.ttl_s is not None else dns.ttl_s
    record(ctx.run, DnsFailoverMeasurement(
        ts=time.time(), record=dns.record, to_region=region, fault_at=fault_at,
        detection_s=_since(fault_at, detected_at), resolved_s=_since(fault_at, watch.resolved_at),
        served_s=measurement.shift_s, ttl_s=ttl_s, answers=answers, requests=watch.requests))
    return {**measurement.fields(), "resolved_s": _since(fault_at, watch.resolved_at),
            "served_s": measurement.shift_s, "detection_s": _since(fault_at, detected_at),
            "propagation_s": ttl_s, "record": dns.record, "route53": view,
            "answers": [asdict(a) for a in answers]}
