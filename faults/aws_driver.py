"""The AWS driver (``kind: aws``): the lab's faults and observers against a real multi-region stack.

Configured from the target file (see ``targets/example-aws.yaml``): regions and AZs, the Global Accelerator
listener, load balancers' target groups, deployments with their kube contexts, the Aurora (global) clusters and
the ``aws`` section (allowed accounts, GA API region, profile/role, kubeconfig, per-region VPC/subnets/ASGs/FIS
templates, waits). The parts live in ``aftershock.faults.aws`` (one module per concern); this class wires them.

Safety:

- guardrails: before any fault the caller's account (STS) and the regions are checked against the target file;
  every mutating call is checked again for its region (:mod:`aftershock.faults.aws.guardrails`);
- every mutating call is written to ``aws-calls.jsonl`` in the run folder before it is made, and the reverts
  of a fault being injected are kept in the fault journal as they grow (:mod:`aftershock.faults.aws.calls`), so
  ``aftershock recover RUN_FOLDER`` restores the target even after a crash in the middle of a fault;
- dry run (``dry_run=True``, from the run plan of ``aftershock run --dry-run``): reads are made, every call is
  listed (``planned``), nothing is changed.

Example::

    driver = AwsDriver(load_target("targets/example-aws.yaml"), run=RunFolder(path), dry_run=True)
    driver.az_outage("us-east-1a")
    print("\\n".join(str(c) for c in driver.calls.planned))
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from aftershock.core.dns_sample import DnsSample
from aftershock.core.errors import FaultRefused, HarnessError, TargetError
from aftershock.core.phases import PlatformEvent
from aftershock.core.resolver import StubResolver
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.faults.aws import pods
from aftershock.faults.aws.alb_outage import AlbOutage
from aftershock.faults.aws.arc import RoutingControls
from aftershock.faults.aws.aurora import Aurora
from aftershock.faults.aws.az_outage import AzOutage
from aftershock.faults.aws.az_restore import AzRestore
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.credentials import resolve_aws_writer_conninfo
from aftershock.faults.aws.guardrails import GLOBAL_ACCELERATOR, Guardrails
from aftershock.faults.aws.observe import AwsView, Observer
from aftershock.faults.aws.platform_events import AwsPlatformEvents
from aftershock.faults.aws.replication import DataReplication
from aftershock.faults.aws.replication_fis import ReplicationFis
from aftershock.faults.aws.route53 import Route53Dns
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.aws.traffic import FrontDoor
from aftershock.faults.aws.zonal_shift import ZonalShifts, cancel_call
from aftershock.faults.driver import Observation
from aftershock.faults.outcome import FaultOutcome, RevertCall


def _echo(line: str) -> None:
    sys.stdout.write(line + "\n")


class AwsDriver:
    """Faults and observers of an AWS target (``kind: aws``).

    Faults keep an in-flight journal entry from their first step (``journals_in_flight``), so the caller need
    not hold signals while one runs: Ctrl-C during a long wait stops it at once and the rollback starts.
    Reverts (``az_restore``, ``restore_traffic_dial``, ``restore_global_writer``, ``restore_database_region``,
    ``cancel_zonal_shift``, ``stop_replication_experiment``)
    never open an in-flight entry: an interrupted rollback is finished by ``aftershock recover``, never undone.
    """

    journals_in_flight = True

    def __init__(self, target: Target, *, run: RunFolder | None = None, dry_run: bool = False,
                 echo: Callable[[str], None] | None = None, sessions: AwsSessions | None = None,
                 kube: pods.KubeClients | None = None, rng: random.Random | None = None) -> None:
        if target.aws is None:
            raise TargetError(f"target {target.name!r} has no aws section: add aws.allowed_account_ids "
                              "(and the rest of an AWS target, see targets/example-aws.yaml)")
        aws = target.aws
        self.target = target
        self.sessions = sessions or AwsSessions(aws)
        self.guard = Guardrails(target, self.sessions)
        self.calls = CallRecorder(run, guard=lambda region, service: self.guard.ensure(region, service=service),
                                  dry_run=dry_run,
                                  echo=echo or (_echo if dry_run else None))
        self.kube = kube or pods.KubeClients(aws.kubeconfig, credentials=self.sessions.credentials,
                                             accounts=aws.allowed_account_ids,
                                             regions=tuple(r.name for r in target.regions))
        self._rng = rng
        self._poll_s = aws.poll_interval_s
        self._aurora = Aurora(target, self.sessions, self.calls, poll_s=aws.poll_interval_s,
                              timeout_s=aws.wait_timeout_s) if target.database else None
        self.front = FrontDoor(target, self.sessions, self.calls)
        self.shifts = ZonalShifts(target, self.sessions, self.calls)
        self.azs = AzOutage(target, self.sessions, self.calls, self.kube, lambda: self._aurora,
                            poll_s=aws.poll_interval_s, timeout_s=aws.wait_timeout_s)
        self.observer = Observer(target, self.sessions, self.calls, self.kube, self._aurora, self.front, self.azs)
        self.route53 = Route53Dns(target, self.sessions, self.calls)
        self.platform = AwsPlatformEvents(target, self.sessions, self.calls)
        self.arc = RoutingControls(target, self.sessions, self.calls, rng=rng)
        self.alb_outage = AlbOutage(target, self.sessions, self.calls)
        self.replication_fis = ReplicationFis(target, self.sessions, self.calls)
        self._resolver: StubResolver | None = None

    def __repr__(self) -> str:
        return f"AwsDriver(target={self.target.name!r}, dry_run={self.calls.dry_run}, run={self.calls.run!r})"

    def close(self) -> None:
        try:
            self.kube.close()
        finally:
            self.sessions.close()

    def _db(self) -> Aurora:
        if self._aurora is None:
            raise FaultRefused(f"target {self.target.name!r} has no database section: add database.clusters")
        return self._aurora

    # -- faults --------------------------------------------------------------------------------------
    def kill_pods(self, region: str, *, az: str | None, count: int | None, percent: float | None) -> FaultOutcome:
        self.target.region(region)
        self.guard.ensure(region)
        with self.calls.fault("kill_pods"):  # heals by itself: no reverts, no in-flight entry
            killed = pods.kill_pods(self.kube, self.calls, self.target, region, az=az, count=count, percent=percent,
                                    rng=self._rng)
        where = region + (f" ({az})" if az else "")
        return FaultOutcome(f"killed {len(killed)} pod(s) in {where}", {"region": region, "pods": killed})

    def az_outage(self, az: str) -> FaultOutcome:
        region = self.target.az(az)[0].name
        self.guard.ensure(region)
        with self.calls.fault("az_outage") as inflight:
            return inflight.hand_over(self.azs.inject(region, az, inflight))

    def az_restore(self, az: str, *, nacls: dict[str, str] | None = None, blackhole_nacl: str | None = None,
                   nodes: list[dict[str, str | None]] | None = None, asgs: dict[str, list[str]] | None = None,
                   asg_subnets: dict[str, str] | None = None, instances: list[str] | None = None,
                   fis_experiment: str | None = None, fis_template: str | None = None) -> FaultOutcome:
        """Undo an AZ outage exactly (the arguments come from its revert); with ``az`` only, undo the network
        blackhole found by its tags. Every step runs; the failed ones are reported together at the end."""
        region = self.target.az(az)[0].name
        self.guard.ensure(region)
        restore = AzRestore(az, dict(nacls or {}), blackhole_nacl, list(nodes or []), dict(asgs or {}),
                            dict(asg_subnets or {}), list(instances or []), fis_experiment, fis_template)
        done = self.azs.restore(region, restore)
        return FaultOutcome(f"AZ {az} ({region}) restored: " + ("; ".join(done) or "nothing was down"),
                            {"region": region})

    def crash_writer(self) -> FaultOutcome:
        self.guard.ensure(self.target.primary.name)
        with self.calls.fault("crash_writer"):
            old, new = self._db().failover_in_region()
        return FaultOutcome(f"writer {old.instance} of {old.cluster} ({old.region}) failed over to {new}",
                            {"cluster": old.cluster, "region": old.region, "old_writer": old.instance,
                             "new_writer": new})

    def failover_global_database(self, to_region: str) -> FaultOutcome:
        self.guard.ensure(self.target.region(to_region).name)
        db = self._db()
        with self.calls.fault("failover_global_database") as inflight:
            reverts = (RevertCall("restore_database_region", {"region": db.writer_region()}),
                       RevertCall("restore_global_writer", {"to_region": db.writer_region()}))
            inflight.set(*reverts)
            from_region = db.failover(to_region)
            return inflight.hand_over(FaultOutcome(
                f"global database failed over (data loss allowed) from {from_region} to {to_region}",
                {"from_region": from_region, "to_region": to_region}, reverts))

    def switchover_global_database(self, to_region: str) -> FaultOutcome:
        self.guard.ensure(self.target.region(to_region).name)
        db = self._db()
        with self.calls.fault("switchover_global_database") as inflight:
            back = RevertCall("restore_global_writer", {"to_region": db.writer_region()})
            inflight.set(back)
            from_region = db.switchover(to_region)
            return inflight.hand_over(FaultOutcome(f"global database switched over from {from_region} to {to_region}",
                                                   {"from_region": from_region, "to_region": to_region}, (back,)))

    def restore_global_writer(self, to_region: str) -> FaultOutcome:
        """Revert: the global writer back in ``to_region``. A switchover already under way (an interrupted
        rollback) is waited for, never doubled; nothing is done when the writer is there already."""
        self.guard.ensure(self.target.region(to_region).name)
        moved = self._db().restore_writer(to_region)
        return FaultOutcome(f"global writer back in {to_region}" + ("" if moved else " (it was there already)"),
                            {"to_region": to_region, "switched_over": moved})

    def restore_database_region(self, region: str) -> FaultOutcome:
        """Wait until ``region``'s cluster is a secondary again (Aurora rebuilds it itself after a failover)."""
        self.guard.ensure(self.target.region(region).name)
        self._db().wait_secondary(region)
        return FaultOutcome(f"database cluster in {region} is a secondary of the global cluster again",
                            {"region": region})

    def set_traffic_dial(self, region: str, dial: int) -> FaultOutcome:
        """``region``'s dial on every listener of the accelerator; reverted group by group."""
        self.guard.ensure(self.target.region(region).name)
        self.guard.ensure(self.front.api_region, service=GLOBAL_ACCELERATOR)
        with self.calls.fault("set_traffic_dial") as inflight:
            before = self.front.group_dials().get(region)
            if before:
                inflight.set(RevertCall("restore_traffic_dial", {"region": region, "dial": min(before.values()),
                                                                 "groups": before}))
            groups = self.front.set_dial(region, dial, before)
            previous = min(groups.values())
            return inflight.hand_over(FaultOutcome(
                f"traffic dial of {region}: {previous} -> {dial} %" + (f" on {len(groups)} listeners"
                                                                       if len(groups) > 1 else ""),
                {"region": region, "previous": previous, "dial": dial, "groups": groups},
                (RevertCall("restore_traffic_dial", {"region": region, "dial": previous, "groups": groups}),)))

    def restore_traffic_dial(self, region: str, dial: int, groups: dict[str, int] | None = None) -> FaultOutcome:
        """Revert: ``region``'s dial back to ``dial``, or each endpoint group back to its dial in ``groups`` (no
        call for a group there already; never journaled as a fault, so an interrupted rollback is finished by
        ``recover``, not undone)."""
        self.guard.ensure(self.target.region(region).name)
        self.guard.ensure(self.front.api_region, service=GLOBAL_ACCELERATOR)
        current = self.front.group_dials().get(region, {})
        wanted = {arn: (groups or {}).get(arn, dial) for arn in current}
        if all(current[arn] == d for arn, d in wanted.items()):
            return FaultOutcome(f"traffic dial of {region} is {dial} % already", {"region": region, "dial": dial})
        previous = min(self.front.restore(region, wanted, current).values())
        return FaultOutcome(f"traffic dial of {region}: {previous} -> {dial} % (restored)",
                            {"region": region, "previous": previous, "dial": dial})

    def start_zonal_shift(self, az: str, *, resources: list[str] | None = None,
                          expires_in: str = "1h") -> FaultOutcome:
        """ARC zonal shift of ``resources`` (default: the region's load balancers with an ``arn``) away from
        ``az``, a remediation step: AWS's own answer to an impaired AZ. Reverted by ``cancel_zonal_shift``."""
        region = self.target.az(az)[0].name
        self.guard.ensure(region)
        chosen = self.shifts.resources(region, resources)
        with self.calls.fault("start_zonal_shift") as inflight:
            shifts = self.shifts.start(region, az, chosen, expires_in, inflight)
            return inflight.hand_over(FaultOutcome(
                f"zonal shift away from {az} ({region}) of {len(chosen)} resource(s) for {expires_in}",
                {"region": region, "az": az, "resources": chosen, "shifts": shifts, "expires_in": expires_in},
                (cancel_call(region, az, chosen, shifts),)))

    def cancel_zonal_shift(self, region: str, az: str, resources: list[str],
                           shifts: list[str] | None = None) -> FaultOutcome:
        """Revert: cancel the zonal shifts of ours away from ``az`` on ``resources`` (``shifts`` by id, and any
        other found by its comment); nothing to do when they expired or were cancelled already."""
        self.guard.ensure(self.target.region(region).name)
        cancelled = self.shifts.cancel(region, az, list(resources), list(shifts or []))
        return FaultOutcome(f"zonal shift away from {az} ({region}) " + (
            f"cancelled: {', '.join(cancelled)}" if cancelled else "was over already"),
            {"region": region, "az": az, "cancelled": cancelled})

    def cut_replication(self, region: str) -> FaultOutcome:
        raise FaultRefused("cut_replication is not available on AWS: Aurora Global Database replication cannot be "
                           "paused, and detaching a secondary cannot be undone without rebuilding it; measure RPO "
                           "with failover_global_database instead")

    def restore_replication(self, region: str) -> FaultOutcome:
        raise FaultRefused("restore_replication is not available on AWS (see cut_replication): nothing to restore")

    # -- DynamoDB / S3 replication (aftershock.faults.aws.replication) ------------------------------------
    def pause_data_replication(self, store: str, name: str) -> FaultOutcome:
        """Pause replication of the target's table (``dynamodb``) or source bucket (``s3``); exact revert. With a
        template in ``aws.fis_templates`` for the store, a FIS experiment pauses it (:mod:`.aws.replication_fis`)."""
        data, fis = DataReplication(self.target, self.sessions, self.calls), self.replication_fis
        if store == "dynamodb":
            table = data.check_table(name)
            self.guard.ensure(*(r.name for r in self.target.regions))
            with self.calls.fault("pause_table_replication") as inflight:
                return fis.pause(store, table, inflight) if fis.template(store) else data.pause_table(table, inflight)
        if store == "s3":
            bucket, region = data.check_bucket(name)
            self.guard.ensure(region)
            with self.calls.fault("pause_bucket_replication") as inflight:
                return fis.pause(store, bucket, inflight) if fis.template(store) else \
                    data.pause_bucket(bucket, region, inflight)
        raise FaultRefused(f"unknown store {store!r}: use 'dynamodb' (a global table) or 's3' (a bucket)")

    def stop_replication_experiment(self, store: str, region: str, template: str, token: str,
                                    experiment: str | None = None) -> FaultOutcome:
        """Revert of a FIS replication pause: stop the experiment (FIS restores replication) and wait for its end."""
        return self.replication_fis.stop(store, region, template, token, experiment)

    def restore_table_policy(self, table: str, policies: dict[str, str | None]) -> FaultOutcome:
        return DataReplication(self.target, self.sessions, self.calls).restore_table_policy(table, policies)

    def restore_bucket_replication(self, bucket: str, configuration: dict[str, Any]) -> FaultOutcome:
        return DataReplication(self.target, self.sessions, self.calls).restore_bucket_replication(bucket,
                                                                                                  configuration)

    # -- DNS (Route 53, aftershock.faults.aws.route53) ---------------------------------------------------
    def set_dns_health_check(self, region: str, inverted: bool = True) -> FaultOutcome:
        """Fail ``region``'s Route 53 health check (``Inverted=True``); reverted by restore_dns_health_check."""
        if not inverted:
            raise FaultRefused("set_dns_health_check only inverts on AWS: restore_dns_health_check reverts")
        self.guard.ensure(self.target.primary.name)
        with self.calls.fault("fail_dns_health_check") as inflight:
            return inflight.hand_over(self.route53.invert(region, inflight))

    def restore_dns_health_check(self, check_id: str, inverted: bool) -> FaultOutcome:
        return FaultOutcome(self.route53.restore_health_check(check_id, inverted), {"check": check_id})

    def set_dns_primary(self, primary: str) -> FaultOutcome:
        """Manual DNS failover: ``primary``'s failover record becomes the PRIMARY."""
        self.target.region(primary)
        self.guard.ensure(self.target.primary.name)
        with self.calls.fault("dns_failover") as inflight:
            return inflight.hand_over(self.route53.set_primary(primary, inflight))

    def restore_dns_records(self, records: list[dict[str, Any]]) -> FaultOutcome:
        return FaultOutcome(self.route53.restore_records(records), {})

    def set_routing_control(self, region: str, state: str = "Off") -> FaultOutcome:
        """Turn ``region``'s ARC routing control ``state`` (Off: its record leaves DNS at once), through any
        cluster endpoint that answers; reverted by restore_routing_control to the state read before."""
        self.target.region(region)
        self.guard.ensure(self.target.primary.name)
        with self.calls.fault("set_routing_control") as inflight:
            return inflight.hand_over(self.arc.set(region, state, inflight))

    def restore_routing_control(self, arn: str, state: str) -> FaultOutcome:
        return FaultOutcome(self.arc.restore(arn, state), {"arn": arn, "state": state})

    def set_alb_outage(self, region: str, down: bool = True) -> FaultOutcome:
        """``region``'s ALBs answer 503 to every request (a priority-1 listener rule, :mod:`.aws.alb_outage`);
        reverted by restore_alb_outage (``down=False`` is that revert, for every rule of ours)."""
        self.target.region(region)
        if not down:
            return self.restore_alb_outage(region, [])
        self.guard.ensure(region)
        with self.calls.fault("lose_region_front_door") as inflight:
            return inflight.hand_over(self.alb_outage.inject(region, inflight))

    def restore_alb_outage(self, region: str, rules: list[str]) -> FaultOutcome:
        self.guard.ensure(self.target.region(region).name)
        done = self.alb_outage.restore(region, list(rules))
        return FaultOutcome(f"the ALB(s) of {region} serve again: " + (", ".join(done) or "no rule of ours was left"),
                            {"region": region, "deleted": done})

    # -- observers -----------------------------------------------------------------------------------
    def observe(self) -> Observation:
        observation = self.observer.observe()[0]
        if self.target.front_door.kind != "route53-failover" or self.target.front_door.dns is None:
            return observation
        return dataclasses.replace(observation, dns=self.sample_dns())  # Route 53 next to our own resolution

    def sample_dns(self) -> DnsSample:
        """Route 53's view (checkers' health share, ``test_dns_answer``) next to the harness's own resolution."""
        if self._resolver is None:
            self._resolver = StubResolver(self.target.load.resolver, cache=0.0)
        return self.route53.sample(self._resolver)

    def platform_events(self, since: float, until: float) -> tuple[tuple[PlatformEvent, ...], tuple[str, ...]]:
        """RDS events, ALB target health and GA endpoint health (sampled) as RTO phase boundaries in ``[since,
        until]`` (:mod:`aftershock.faults.aws.platform_events`); a source that fails raises HarnessError."""
        return self.platform.read(since, until)

    def observe_aws(self) -> tuple[Observation, AwsView]:
        """The observation and the AWS detail behind it (ASGs, ALB targets, GA endpoint health)."""
        return self.observer.observe()

    def wait_healthy(self, timeout_s: float) -> Observation:
        deadline = time.monotonic() + timeout_s
        observation = self.observe()
        while not observation.healthy and not self.calls.dry_run:
            if time.monotonic() > deadline:
                raise HarnessError(f"target {self.target.name!r} did not return to its baseline within "
                                   f"{timeout_s:.0f} s: {observation}; check the AWS consoles, then rerun "
                                   "`aftershock recover RUN_FOLDER`")
            time.sleep(self._poll_s)
            observation = self.observe()
        return observation

    def writer_conninfo(self) -> str:
        return resolve_aws_writer_conninfo(self.target, sessions=self.sessions)

    def planned(self) -> list[str]:
        """The calls listed so far in a dry run."""
        return [str(c) for c in self.calls.planned]

    def __enter__(self) -> AwsDriver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
