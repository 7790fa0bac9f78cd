"""A region's front door lost on AWS: every listener of the region's ALBs answers 503 to every request.

The lab's ``alb-outage`` takes every target out of the region's ALB, which then answers 503; on AWS, deregistering
targets would be undone within seconds by the AWS Load Balancer Controller (it reconciles its target groups), so
the fault adds one listener rule at priority 1 instead: path ``/*``, a fixed 503 response, tagged
``aftershock:fault=alb-outage``. Clients get 503 from the ALB; the region's Route 53 health check (an HTTP check of
the ALB) fails by itself after its failure threshold x interval and DNS moves the clients - the outage the
``dns-region-failover`` experiment measures. Targets, target groups and pods are untouched.

The revert deletes the rules by ARN and any other rule of ours found by its tag on the same listeners, so a crash
between the create and its record leaves nothing behind for ``aftershock recover``. The fault is refused before
any change when a listener has a rule at priority 1 already (ours would not come first) or when the region has no
load balancer with an ``arn`` in the target. Caveat: a Load Balancer Controller reconcile of an Ingress (a change
to it, or its sync period, 10 h by default) deletes rules it does not own; the experiment's probes would then see
the region answer again.

Example::

    outage = AlbOutage(target, sessions, recorder)
    rules = outage.inject("us-east-1", inflight)      # revert: outage.restore("us-east-1", rules)
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall

TAG = {"Key": "aftershock:fault", "Value": "alb-outage"}
BODY = "aftershock: this region's front door is lost (alb-outage fault)"


def restore_call(region: str, rules: list[str]) -> RevertCall:
    return RevertCall("restore_alb_outage", {"region": region, "rules": list(rules)})


class AlbOutage:
    """Adds and removes the 503 rule on the listeners of one region's load balancers."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        return f"AlbOutage(target={self._target.name!r})"

    def _elb(self, region: str) -> Any:
        return self._sessions.client("elbv2", region)

    def listeners(self, region: str) -> list[str]:
        """The listeners of the target's load balancers (with an ``arn``) in ``region``."""
        arns = [lb.arn for lb in self._target.load_balancers if lb.region == region and lb.arn]
        if not arns:
            raise FaultRefused(f"lose_region_front_door: target {self._target.name!r} has no load balancer with an "
                               f"arn in {region}: add load_balancers[].arn", target=self._target.name,
                               fault="lose_region_front_door")
        found: list[str] = []
        for arn in arns:
            page = self._rec.read(self._elb(region), "describe_listeners", LoadBalancerArn=arn)
            found += [str(listener["ListenerArn"]) for listener in page.get("Listeners", [])]
        return found

    def _ours(self, region: str, listeners: list[str]) -> list[str]:
        rules = [str(r["RuleArn"]) for listener in listeners for r in
                 self._rec.read(self._elb(region), "describe_rules", ListenerArn=listener).get("Rules", [])
                 if not r.get("IsDefault")]
        if not rules:
            return []
        tags = self._rec.read(self._elb(region), "describe_tags", ResourceArns=rules).get("TagDescriptions", [])
        return [str(t["ResourceArn"]) for t in tags if TAG in t.get("Tags", [])]

    def inject(self, region: str, inflight: InFlight) -> FaultOutcome:
        listeners = self.listeners(region)
        for listener in listeners:
            taken = [r for r in self._rec.read(self._elb(region), "describe_rules", ListenerArn=listener)
                     .get("Rules", []) if r.get("Priority") == "1"]
            if taken:
                raise FaultRefused(f"lose_region_front_door: listener {listener} has a rule at priority 1 already "
                                   f"({taken[0]['RuleArn']}): free priority 1 or use fail_dns_health_check",
                                   target=self._target.name, fault="lose_region_front_door")
        rules: list[str] = []
        for listener in listeners:
            inflight.set(restore_call(region, rules))  # before the create: a crash leaves a rule found by its tag
            created = self._rec.write(
                self._elb(region), "create_rule", ListenerArn=listener, Priority=1,
                Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
                Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                    "StatusCode": "503", "ContentType": "text/plain", "MessageBody": BODY}}],
                Tags=[TAG], dry_result={"Rules": [{"RuleArn": f"{listener}/rule-dry-run"}]})
            rules.append(str(created["Rules"][0]["RuleArn"]))
        revert = restore_call(region, rules)
        inflight.set(revert)
        return FaultOutcome(f"the ALB(s) of {region} answer 503 to every request ({len(listeners)} listener(s)): "
                            "Route 53's check of the region fails by itself", {"region": region, "rules": rules},
                            (revert,))

    def restore(self, region: str, rules: list[str]) -> list[str]:
        """Delete ``rules`` and any other rule of ours on the region's listeners; the ARNs deleted."""
        listeners = self.listeners(region)
        ours = self._ours(region, listeners)
        deleted: list[str] = []
        failed: list[str] = []
        for rule in sorted(set(ours)):  # a rule in ``rules`` but gone already needs nothing
            try:
                self._rec.write(self._elb(region), "delete_rule", RuleArn=rule)
            except Exception as exc:  # every rule is tried, the failures reported together
                failed.append(f"{rule}: {type(exc).__name__}: {exc}")
            else:
                deleted.append(rule)
        if failed:
            raise HarnessError(f"could not delete the alb-outage rule(s) {'; '.join(failed)}: delete them in the EC2 "
                               "console (Load Balancers, Listeners), then rerun `aftershock recover RUN_FOLDER`",
                               target=self._target.name, fault="restore_alb_outage")
        return deleted + [f"{r} (gone already)" for r in sorted(set(rules) - set(ours))]


__all__ = ["BODY", "TAG", "AlbOutage", "restore_call"]
