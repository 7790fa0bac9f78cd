"""Route 53 in the lab: the shop's public zone (failover, weighted and simple records tied to health checks),
the private zone of the database endpoints, the health checkers and the DNS server, owned by the Lab.

Names (``DnsLabSettings`` defaults)::

    shop.aftershock-lab.test            A  failover: PRIMARY the primary's ALB, SECONDARY the secondary's
    weighted.shop.aftershock-lab.test   A  weighted 50/50 over the two ALBs, each with its region's check
    alb-<region>.aftershock-lab.test    A  simple: the region's ALB address
    writer.db.aftershock-lab.internal   CNAME -> <writer instance>.db.aftershock-lab.internal (follows failovers)
    reader-<region>.db...internal       CNAME -> a reader of the region (its writer when it has none)
    <instance>.db.aftershock-lab.internal  A 127.0.0.1 and TXT "port=<port>"

Every change and health transition goes to the event log: ``dns.record_changed``, ``dns.health_check_failed`` /
``dns.health_check_recovered``, ``dns.answer_changed`` (what the shop's name resolves to) and, one TTL later,
``dns.ttl_expired`` (by then every resolver that honours the TTL has the new answer).

Faults (merged into the lab's handler table, undone by :meth:`LabDns.restore_baseline`): ``dns-health-check``
(invert a check), ``dns-failover`` (move the failover PRIMARY), ``routing-control`` (turn a region's ARC routing
control Off or On: its RECOVERY_CONTROL check on the failover record follows at once, :mod:`.control`) and
``alb-outage`` (a region's front door loses its targets and answers 503, as an ALB with no healthy target does:
its Route 53 check then fails by itself).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.lab.dns.control import RoutingControlCheck
from aftershock.lab.dns.health import HealthCheck
from aftershock.lab.dns.records import RecordSet, Routing, fqdn, select
from aftershock.lab.dns.server import DnsServer, free_dns_port
from aftershock.lab.dns.settings import DnsLabSettings
from aftershock.lab.dns.zone import Zone
from aftershock.lab.events import Emit

DB_TTL_S = 1.0  # Aurora's cluster endpoints: 5 s

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class LabDns:
    """Zones, health checks and server of the lab's Route 53 (start, stop, faults, database hook)."""

    def __init__(self, settings: DnsLabSettings, regions: tuple[str, ...], alb_port: int, emit: Emit, *,
                 on_alb_change: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.regions = regions
        self.alb_port = alb_port
        self._emit = emit
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._albs_down: set[str] = set()
        self._on_alb_change = on_alb_change  # the lab re-applies the region's ALB targets (none while down)
        self.port = free_dns_port()
        self.checks = {r: HealthCheck(f"hc-{r}", r, settings.alb_hosts[r], alb_port, settings.health, emit,
                                      self._answer_may_change) for r in regions}
        self.controls = {r: RoutingControlCheck(r, emit, self._answer_may_change) for r in regions}
        self.public = Zone(settings.zone, records=self._public_records(primary=regions[0]))
        self.private = Zone(settings.private_zone, private=True)
        self._answer = self.answer()
        self.server = DnsServer(self.lookup, self.known, self.port)

    # -- records ---------------------------------------------------------------------------------------
    def _failover(self, primary: str) -> list[RecordSet]:
        s = self.settings
        return [RecordSet(name=s.record, type="A", ttl_s=s.ttl_s, values=(s.alb_hosts[r],), routing=Routing.FAILOVER,
                          set_id=r, failover="PRIMARY" if r == primary else "SECONDARY", health_check=f"hc-{r}",
                          control_check=self.controls[r].id)
                for r in self.regions]

    def _public_records(self, primary: str) -> list[RecordSet]:
        s = self.settings
        weighted = [RecordSet(name=f"weighted.{s.record}", type="A", ttl_s=s.ttl_s, values=(s.alb_hosts[r],),
                              routing=Routing.WEIGHTED, set_id=r, weight=50, health_check=f"hc-{r}")
                    for r in self.regions]
        simple = [RecordSet(name=f"alb-{r}.{s.zone}", type="A", ttl_s=s.ttl_s, values=(s.alb_hosts[r],))
                  for r in self.regions]
        return [*self._failover(primary), *weighted, *simple]

    def _zone_of(self, name: str) -> Zone | None:
        return next((z for z in (self.public, self.private) if z.holds(name)), None)

    def known(self, name: str) -> bool | None:
        zone = self._zone_of(name)
        return None if zone is None else bool(zone.record_sets(name))

    def lookup(self, name: str, rtype: str) -> RecordSet | None:
        zone = self._zone_of(name)
        if zone is None:
            return None
        return select(zone.record_sets(name, rtype), self._healthy, self._rng)

    def _healthy(self, check_id: str) -> bool:
        checks: list[HealthCheck | RoutingControlCheck] = [*self.checks.values(), *self.controls.values()]
        check = next((c for c in checks if c.id == check_id), None)
        return True if check is None else check.healthy

    def answer(self) -> str | None:
        """What the shop's name resolves to right now."""
        found = self.lookup(self.settings.record, "A")
        return found.values[0] if found else None

    def region_of(self, address: str | None) -> str | None:
        return next((r for r, host in self.settings.alb_hosts.items() if host == address), None)

    def _answer_may_change(self) -> None:
        with self._lock:
            before, after = self._answer, self.answer()
            if before == after:
                return
            self._answer = after
            timer = threading.Timer(self.settings.ttl_s, self._emit, args=("dns.ttl_expired",),
                                    kwargs={"name": self.settings.record, "answer": after,
                                            "region": self.region_of(after)})
            timer.daemon = True
            self._timers.append(timer)
        self._emit("dns.answer_changed", name=self.settings.record, before=before, after=after,
                   region=self.region_of(after), ttl_s=self.settings.ttl_s)
        timer.start()

    # -- database endpoints (private zone) -------------------------------------------------------------
    def on_db_topology(self, writer: str | None, readers: Mapping[str, list[str]], ports: Mapping[str, int]) -> None:
        """Point the writer and reader CNAMEs at the instances the control plane chose (like Aurora's endpoints)."""
        pz = self.settings.private_zone
        records = [rec for name, port in ports.items() for rec in (
            RecordSet(name=f"{name}.{pz}", type="A", ttl_s=DB_TTL_S, values=("127.0.0.1",)),
            RecordSet(name=f"{name}.{pz}", type="TXT", ttl_s=DB_TTL_S, values=(f"port={port}",)))]
        if writer is not None:
            records.append(RecordSet(name=f"writer.{pz}", type="CNAME", ttl_s=DB_TTL_S, values=(f"{writer}.{pz}",)))
        for region, names in readers.items():
            if names:
                records.append(RecordSet(name=f"reader-{region}.{pz}", type="CNAME", ttl_s=DB_TTL_S,
                                         values=(f"{names[0]}.{pz}",)))
        before = {(r.name, r.type): r.values for r in self.private.all()}
        self.private.change(upsert=records)
        for record in records:
            if record.type == "CNAME" and before.get((record.name, "CNAME")) != record.values:
                self._emit("dns.record_changed", zone=fqdn(pz), name=record.name, type="CNAME",
                           before=list(before.get((record.name, "CNAME")) or ()), after=list(record.values))

    # -- faults ----------------------------------------------------------------------------------------
    def handlers(self) -> dict[str, Handler]:
        return {"faults/dns-health-check": self._invert, "faults/dns-failover": self._manual_failover,
                "faults/alb-outage": self._alb_outage, "faults/routing-control": self._routing_control}

    def alb_down(self, region: str) -> bool:
        """True while ``region``'s ALB is out (the ``alb-outage`` fault): it has no targets, answers 503."""
        with self._lock:
            return region in self._albs_down

    def _alb_outage(self, body: dict[str, Any]) -> dict[str, Any]:
        region = self._region(body, "region")
        down = body.get("down", True)
        if not isinstance(down, bool) or self._on_alb_change is None:
            raise FaultRefused(f"down must be true or false, got {down!r}" if self._on_alb_change is not None
                               else "this lab cannot take an ALB down: start it with --front-door route53-failover")
        with self._lock:
            if (region in self._albs_down) == down:
                raise FaultRefused(f"the ALB of {region} is already {'out' if down else 'answering'}")
            (self._albs_down.add if down else self._albs_down.discard)(region)
        self._on_alb_change(region)
        self._emit("alb.outage_started" if down else "alb.outage_ended", region=region,
                   endpoint=f"{self.settings.alb_hosts[region]}:{self.alb_port}")
        if not down:
            return {"did": f"ALB of {region} answers again (its ready pods are its targets)",
                    "details": {"region": region, "down": False}}
        return {"did": f"ALB of {region} lost its targets: it answers 503 to clients and Route 53's checks",
                "details": {"region": region, "down": True},
                "revert": {"action": "faults/alb-outage", "args": {"region": region, "down": False}}}

    def restore_baseline(self) -> list[str]:
        """Undo this part's faults (ALBs out, inverted checks, a moved failover PRIMARY): what was done."""
        done: list[str] = []
        with self._lock:
            down = sorted(self._albs_down)
        steps: list[tuple[Handler, dict[str, Any]]] = [(self._alb_outage, {"region": r, "down": False}) for r in down]
        steps += [(self._invert, {"region": r, "inverted": False}) for r, c in self.checks.items() if c.inverted]
        steps += [(self._routing_control, {"region": r, "state": "On"}) for r, c in self.controls.items()
                  if c.state != "On"]
        if self.primary_region() != self.regions[0]:
            steps.append((self._manual_failover, {"primary": self.regions[0]}))
        for handler, body in steps:
            try:
                done.append(str(handler(body)["did"]))
            except FaultRefused as exc:  # already as wanted meanwhile: say so, go on
                done.append(str(exc))
        return done

    def _region(self, body: dict[str, Any], key: str) -> str:
        region = body.get(key)
        if region not in self.regions:
            raise FaultRefused(f"{key} {region!r} has no DNS health check or record: use one of "
                               f"{', '.join(self.regions)}")
        return str(region)

    def _invert(self, body: dict[str, Any]) -> dict[str, Any]:
        region = self._region(body, "region")
        inverted = body.get("inverted", True)
        if not isinstance(inverted, bool):
            raise FaultRefused(f"inverted must be true or false, got {inverted!r}")
        check = self.checks[region]
        if check.inverted == inverted:
            raise FaultRefused(f"the DNS health check {check.id} is already {'' if inverted else 'not '}inverted")
        before = check.set_inverted(inverted)
        return {"did": f"DNS health check {check.id} ({region}) inverted={inverted} (fails after "
                       f"{check.settings.failure_threshold} x {check.settings.interval_s:g} s)" if inverted else
                       f"DNS health check {check.id} ({region}) inverted=False",
                "details": {"check": check.id, "region": region, "inverted": inverted},
                "revert": {"action": "faults/dns-health-check", "args": {"region": region, "inverted": before}}}

    def _routing_control(self, body: dict[str, Any]) -> dict[str, Any]:
        control = self.controls[self._region(body, "region")]
        state = body.get("state", "Off")
        before = control.set(state)
        return {"did": f"ARC routing control {control.id} ({control.region}): {before} -> {state} (its "
                       f"RECOVERY_CONTROL check {'fails' if state == 'Off' else 'passes'} at once)",
                "details": {"control": control.id, "arn": control.arn, "region": control.region, "state": state,
                            "before": before},
                "revert": {"action": "faults/routing-control", "args": {"region": control.region, "state": before}}}

    def primary_region(self) -> str:
        return next(r.set_id for r in self.public.record_sets(self.settings.record, "A")
                    if r.failover == "PRIMARY" and r.set_id)

    def _manual_failover(self, body: dict[str, Any]) -> dict[str, Any]:
        region = self._region(body, "primary")
        before = self.primary_region()
        if before == region:
            raise FaultRefused(f"{region} is already the PRIMARY of {self.settings.record}: nothing to fail over")
        self.public.change(upsert=self._failover(primary=region))
        self._emit("dns.record_changed", zone=self.public.name, name=fqdn(self.settings.record), type="A",
                   primary=region, before=before)
        self._answer_may_change()
        return {"did": f"failover record {self.settings.record}: PRIMARY {before} -> {region}",
                "details": {"primary": region, "before": before},
                "revert": {"action": "faults/dns-failover", "args": {"primary": before}}}

    # -- lifecycle and view ----------------------------------------------------------------------------
    def start(self) -> None:
        self.server.start()
        for check in self.checks.values():
            check.start()
        self._emit("dns.started", port=self.port, zone=self.settings.zone, answer=self._answer)

    def stop(self) -> None:
        with self._lock:
            for timer in self._timers:
                timer.cancel()
        for check in self.checks.values():
            check.stop()
        self.server.stop()

    def status(self) -> dict[str, Any]:
        return {"resolver": f"127.0.0.1:{self.port}", "name": self.settings.record, "answer": self._answer,
                "region": self.region_of(self._answer), "primary": self.primary_region(),
                "ttl_s": self.settings.ttl_s, "health_checks": [c.view() for c in self.checks.values()],
                "albs_down": sorted(self._albs_down),
                "routing_controls": [c.view() for c in self.controls.values()],
                "private_zone": {r.name: list(r.values) for r in self.private.all() if r.type == "CNAME"}}


__all__ = ["LabDns"]
