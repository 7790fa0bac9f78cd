"""Route 53 on AWS: fail a region's DNS health check (``Inverted``), a manual DNS failover (swap the failover
record's PRIMARY/SECONDARY), their exact reverts, and what Route 53 itself says (the sampler's view).

Guardrails on top of the account/region ones: only the health checks listed in ``front_door.dns.health_checks``
and only the hosted zone ``front_door.dns.hosted_zone_id`` are touched, and that zone must be the target's
``zone`` (a zone id copied from another stack is refused before any change). Route 53 is a global API: its calls
go through the primary region's client.

Example::

    dns = Route53Dns(target, sessions, recorder)
    outcome = dns.invert("us-east-1", inflight)     # revert: restore_health_check(check_id, inverted=False)
"""

from __future__ import annotations

import copy
from typing import Any

from aftershock.core.dns_sample import DnsSample
from aftershock.core.errors import FaultRefused
from aftershock.core.resolver import StubResolver
from aftershock.core.route53 import DnsHealthCheck, Route53
from aftershock.core.target import Target
from aftershock.faults.aws.arc import RoutingControls
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.dns_observe import read_check, read_controls
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall


def _name(value: str) -> str:
    return value.lower().rstrip(".")


def record_value(record: dict[str, Any]) -> str | None:
    """What a record set answers: its first value, or the DNS name of its alias target."""
    alias = record.get("AliasTarget")
    if alias:
        return str(alias["DNSName"])
    values = record.get("ResourceRecords") or []
    return str(values[0]["Value"]) if values else None


class Route53Dns:
    """The target's failover record and health checks."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec
        self._arc: RoutingControls | None = None  # the sampler's reads of the routing controls

    def __repr__(self) -> str:
        return f"Route53Dns(target={self._target.name!r})"

    @property
    def dns(self) -> Route53:
        dns = self._target.front_door.dns
        if dns is None:
            raise FaultRefused(f"target {self._target.name!r} has no front_door.dns: add the Route 53 records "
                               "(zone, record, hosted_zone_id, answers, health_checks) to the target file")
        return dns

    def _client(self) -> Any:
        return self._sessions.client("route53", self._target.primary.name)

    def check(self, region: str) -> DnsHealthCheck:
        found = self.dns.check_of(region)
        if found is None:
            raise FaultRefused(f"target {self._target.name!r} lists no DNS health check for {region}: add it to "
                               "front_door.dns.health_checks")
        return found

    def _known_check(self, check_id: str) -> None:
        if check_id not in {c.id for c in self.dns.health_checks}:
            raise FaultRefused(f"refused: health check {check_id} is not in front_door.dns.health_checks of target "
                               f"{self._target.name!r}")

    def zone_id(self) -> str:
        """The target's hosted zone, checked: it exists and is the target's ``zone``."""
        zone_id = self.dns.hosted_zone_id
        if not zone_id:
            raise FaultRefused(f"target {self._target.name!r} has no front_door.dns.hosted_zone_id: add the zone's id")
        zone = self._rec.read(self._client(), "get_hosted_zone", Id=zone_id)["HostedZone"]
        if _name(zone["Name"]) != _name(self.dns.zone):
            raise FaultRefused(f"refused: hosted zone {zone_id} is {_name(zone['Name'])}, not the target's zone "
                               f"{_name(self.dns.zone)}: fix front_door.dns.hosted_zone_id")
        return zone_id

    # -- health check --------------------------------------------------------------------------------
    def _config(self, check_id: str) -> tuple[dict[str, Any], int]:
        found = self._rec.read(self._client(), "get_health_check", HealthCheckId=check_id)["HealthCheck"]
        return dict(found["HealthCheckConfig"]), int(found.get("HealthCheckVersion", 1))

    def invert(self, region: str, inflight: InFlight) -> FaultOutcome:
        """Make ``region``'s health check report unhealthy (``Inverted=True``); reverted to its original value."""
        check = self.check(region)
        config, version = self._config(check.id)
        original = bool(config.get("Inverted", False))
        if original:
            raise FaultRefused(f"health check {check.id} of {region} is already inverted: revert it first")
        revert = RevertCall("restore_dns_health_check", {"check_id": check.id, "inverted": original})
        inflight.set(revert)
        self._rec.write(self._client(), "update_health_check", HealthCheckId=check.id, HealthCheckVersion=version,
                        Inverted=True)
        return FaultOutcome(f"Route 53 health check {check.id} ({region}) inverted: unhealthy after "
                            f"{check.failure_threshold} x {check.interval_s:g} s",
                            {"region": region, "check": check.id, "inverted_before": original}, (revert,))

    def restore_health_check(self, check_id: str, inverted: bool) -> str:
        self._known_check(check_id)
        config, version = self._config(check_id)
        if bool(config.get("Inverted", False)) == inverted:
            return f"health check {check_id} already has Inverted={inverted}"
        self._rec.write(self._client(), "update_health_check", HealthCheckId=check_id, HealthCheckVersion=version,
                        Inverted=inverted)
        return f"health check {check_id} restored to Inverted={inverted}"

    # -- failover record -----------------------------------------------------------------------------
    def failover_records(self, zone_id: str) -> list[dict[str, Any]]:
        """The PRIMARY and SECONDARY record sets of the target's name."""
        page = self._rec.read(self._client(), "list_resource_record_sets", HostedZoneId=zone_id,
                              StartRecordName=self.dns.record, MaxItems="20")
        return [r for r in page.get("ResourceRecordSets", [])
                if _name(r["Name"]) == _name(self.dns.record) and r.get("Failover")]

    def set_primary(self, region: str, inflight: InFlight) -> FaultOutcome:
        """Manual failover: ``region``'s record becomes the PRIMARY, the other the SECONDARY."""
        zone_id = self.zone_id()
        records = self.failover_records(zone_id)
        mine = [r for r in records if self.dns.region_of(record_value(r)) == region]
        if len(records) != 2 or len(mine) != 1:
            raise FaultRefused(f"{self.dns.record} needs one PRIMARY and one SECONDARY record, one of them answering "
                               f"{region} (front_door.dns.answers); found {len(records)}")
        if mine[0]["Failover"] == "PRIMARY":
            raise FaultRefused(f"{region} is already the PRIMARY of {self.dns.record}: nothing to fail over")
        before = next(self.dns.region_of(record_value(r)) for r in records if r["Failover"] == "PRIMARY")
        revert = RevertCall("restore_dns_records", {"records": copy.deepcopy(records)})
        inflight.set(revert)
        swapped = [{**r, "Failover": "SECONDARY" if r["Failover"] == "PRIMARY" else "PRIMARY"} for r in records]
        self._upsert(zone_id, swapped, f"aftershock: manual DNS failover to {region}")
        return FaultOutcome(f"failover record {self.dns.record}: PRIMARY {before} -> {region}",
                            {"primary": region, "before": before}, (revert,))

    def restore_records(self, records: list[dict[str, Any]]) -> str:
        zone_id = self.zone_id()
        outside = [r["Name"] for r in records if _name(r["Name"]) != _name(self.dns.record)]
        if outside:
            raise FaultRefused(f"refused: records {outside} are not the target's {self.dns.record}")
        current = {r.get("SetIdentifier"): r for r in self.failover_records(zone_id)}
        changed = [r for r in records if current.get(r.get("SetIdentifier")) != r]
        if changed:
            self._upsert(zone_id, changed, "aftershock: restore the failover record")
        return f"{self.dns.record}: {len(changed)} record set(s) restored"

    def _upsert(self, zone_id: str, records: list[dict[str, Any]], comment: str) -> None:
        # both record sets in one batch: Route 53 applies it atomically (never two PRIMARYs)
        self._rec.write(self._client(), "change_resource_record_sets", HostedZoneId=zone_id, ChangeBatch={
            "Comment": comment, "Changes": [{"Action": "UPSERT", "ResourceRecordSet": r} for r in records]})

    # -- what Route 53 says ----------------------------------------------------------------------------
    def view(self) -> dict[str, Any]:
        """Per health check the share of Route 53's checkers that see it healthy and Route 53's verdict
        (:mod:`.dns_observe`: a check whose calls fail is unknown, said in ``errors``), each routing control's state
        (when the target names an ARC cluster) and the answer Route 53 gives for the target's name
        (``test_dns_answer``): the sampler puts them next to the harness's own resolution."""
        client = self._client()
        checks = [read_check(self._rec, client, check) for check in self.dns.health_checks]
        errors = [c.error for c in checks if c.error]
        controls: dict[str, str | None] = {}
        if self.dns.routing_controls and self.dns.cluster_endpoints:
            if self._arc is None:
                self._arc = RoutingControls(self._target, self._sessions, self._rec)
            controls, failed = read_controls(self._arc, self.dns.routing_controls)
            errors += failed
        answer: list[str] = []
        if self.dns.hosted_zone_id:
            try:
                found = self._rec.read(client, "test_dns_answer", HostedZoneId=self.dns.hosted_zone_id,
                                       RecordName=self.dns.record, RecordType="A")
                answer = [str(a) for a in found.get("RecordData") or []]
            except Exception as exc:  # the answer stays unknown this sample, the checks' status is kept
                errors.append(f"test_dns_answer: {type(exc).__name__}: {exc}")
        return {"healthy_share": {c.region: c.share for c in checks}, "healthy": {c.region: c.healthy for c in checks},
                "routing_controls": controls, "route53_answer": answer,
                "route53_region": self.dns.region_of(answer[0]) if answer else None, "errors": errors}

    def sample(self, resolver: StubResolver) -> DnsSample:
        """:meth:`view` next to the harness's own resolution of the name (``resolver``, asked without a cache);
        a part that cannot be read stays empty (a check or control: None) and says why in ``error``."""
        errors: list[str] = []
        resolved: tuple[str, ...] = ()
        resolved_region: str | None = None
        try:
            answer = resolver.lookup(self.dns.record)
            resolved = answer.addresses
            last = answer.chain[-1] if answer.chain else None
            resolved_region = self.dns.region_of(resolved[0] if resolved else None) or self.dns.region_of(last)
        except OSError as exc:
            errors.append(f"resolving {self.dns.record}: {exc}")
        view: dict[str, Any] = {}
        try:
            view = self.view()
        except Exception as exc:  # a sample records what failed; the run goes on
            errors.append(f"Route 53: {type(exc).__name__}: {exc}")
        errors += [f"Route 53: {e}" for e in view.get("errors") or ()]
        return DnsSample(resolved=resolved, resolved_region=resolved_region,
                         route53_answer=tuple(view.get("route53_answer") or ()),
                         route53_region=view.get("route53_region"),
                         healthy_share=tuple(sorted((view.get("healthy_share") or {}).items())),
                         check_healthy=tuple(sorted((view.get("healthy") or {}).items())),
                         routing_controls=tuple(sorted((view.get("routing_controls") or {}).items())),
                         error="; ".join(errors) or None)


__all__ = ["Route53Dns", "record_value"]
