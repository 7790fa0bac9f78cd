"""Route 53 ARC routing controls on AWS: turn a region's routing control Off (or On), revert it exactly.

A routing control is an On/Off switch hosted on an ARC cluster; its RECOVERY_CONTROL health check in Route 53
follows its state (no probing), so Off takes the region's failover record out at once and DNS answers with the
other region. The cluster has five regional endpoints and AWS asks callers to pick one at random and try the next
when it fails (any of them may be down): :meth:`RoutingControls._call` does that for every call, reads included,
and gives up only when every endpoint of ``front_door.dns.cluster_endpoints`` failed.

Guardrails on top of the account/region ones: only the routing controls named in ``front_door.dns.routing_controls``
are touched, their ARN's account must be allowed, calls go only to the target's cluster endpoints, and only the
safety rules named in ``front_door.dns.safety_rules_to_override`` are overridden.

Example::

    arc = RoutingControls(target, sessions, recorder)
    outcome = arc.set("us-east-1", "Off", inflight)   # revert: restore_routing_control(arn, state="On")
"""

from __future__ import annotations

import random
from typing import Any

from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.exceptions import ClientError

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.route53 import ClusterEndpoint, Route53, RoutingControl
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.guardrails import ARC_CLUSTER
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall

STATES = ("On", "Off")
# one attempt per endpoint: the next endpoint is the retry (AWS's advice for a cluster endpoint that fails)
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=10)
# the sampler's reads: a hung endpoint must not hold a sample up for long (several endpoints are tried in turn)
_OBSERVE_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=2)
_NEXT_ENDPOINT = {"EndpointTemporarilyUnavailableException", "InternalServerException", "ThrottlingException"}


def restore_call(arn: str, state: str) -> RevertCall:
    return RevertCall("restore_routing_control", {"arn": arn, "state": state})


class RoutingControls:
    """The target's ARC routing controls, reached through its cluster's regional endpoints."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder, *,
                 rng: random.Random | None = None) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"RoutingControls(target={self._target.name!r})"

    @property
    def dns(self) -> Route53:
        dns = self._target.front_door.dns
        if dns is None or not dns.routing_controls:
            raise FaultRefused(f"target {self._target.name!r} names no ARC routing control: add "
                               "front_door.dns.routing_controls (region, arn) and front_door.dns.cluster_endpoints")
        return dns

    def control(self, region: str) -> RoutingControl:
        found = self.dns.control_of(region)
        if found is None:
            raise FaultRefused(f"target {self._target.name!r} names no ARC routing control for {region}: add it to "
                               "front_door.dns.routing_controls")
        return found

    def known(self, arn: str) -> RoutingControl:
        """The target's routing control ``arn``, its account checked; refused otherwise (before any call)."""
        found = next((c for c in self.dns.routing_controls if c.arn == arn), None)
        if found is None:
            raise FaultRefused(f"refused: routing control {arn} is not in front_door.dns.routing_controls of target "
                               f"{self._target.name!r}")
        parts = arn.split(":")
        allowed = self._target.aws.allowed_account_ids if self._target.aws else ()
        if len(parts) < 6 or parts[2] != "route53-recovery-control" or parts[4] not in allowed:
            raise FaultRefused(f"refused: routing control {arn} is not an ARC routing control of an account in "
                               f"aws.allowed_account_ids ({', '.join(allowed)}): fix front_door.dns.routing_controls")
        return found

    def _endpoints(self) -> list[ClusterEndpoint]:
        endpoints = list(self.dns.cluster_endpoints)
        if not endpoints:
            raise FaultRefused(f"target {self._target.name!r} names no ARC cluster endpoint: add "
                               "front_door.dns.cluster_endpoints (region, url) from `aws route53-recovery-control-"
                               "config describe-cluster --region us-west-2`")
        return self._rng.sample(endpoints, len(endpoints))  # AWS: start at a random endpoint

    def _call(self, operation: str, *, write: bool, config: Config = _CONFIG, **params: Any) -> Any:
        """``operation`` at one cluster endpoint after the other until one answers."""
        failures: list[str] = []
        for endpoint in self._endpoints():
            client = self._sessions.endpoint_client(ARC_CLUSTER, endpoint.region, endpoint.url, config)
            try:
                if write:
                    return self._rec.write(client, operation, dry_result={}, **params)
                return self._rec.read(client, operation, **params)
            except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as exc:  # refused, timed out, cut
                failures.append(f"{endpoint.region}: {type(exc).__name__}")
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in _NEXT_ENDPOINT:
                    raise
                failures.append(f"{endpoint.region}: {code}")
        raise HarnessError(f"ARC {operation} failed at every cluster endpoint ({'; '.join(failures)}): check the "
                           "ARC cluster's health and front_door.dns.cluster_endpoints, then rerun",
                           target=self._target.name)

    def state(self, arn: str, *, observing: bool = False) -> str:
        """The control's state; ``observing`` (the sampler): short timeouts per endpoint."""
        config = _OBSERVE_CONFIG if observing else _CONFIG
        return str(self._call("get_routing_control_state", write=False, config=config,
                              RoutingControlArn=arn)["RoutingControlState"])

    def _update(self, arn: str, state: str) -> None:
        rules = list(self.dns.safety_rules_to_override)
        try:
            self._call("update_routing_control_state", write=True, RoutingControlArn=arn, RoutingControlState=state,
                       **({"SafetyRulesToOverride": rules} if rules else {}))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            raise FaultRefused(f"ARC refused to turn {arn} {state}: a safety rule blocks it "
                               f"({exc.response['Error'].get('Message', '')}): set the other routing controls first "
                               "or name the rule in front_door.dns.safety_rules_to_override") from None

    def set(self, region: str, state: str, inflight: InFlight) -> FaultOutcome:
        """Turn ``region``'s routing control ``state``; its revert restores the state read before."""
        if state not in STATES:
            raise FaultRefused(f"routing control state {state!r} is unknown: use On or Off")
        control = self.known(self.control(region).arn)
        before = self.state(control.arn)
        if before == state:
            raise FaultRefused(f"routing control {control.arn} of {region} is {state} already: nothing to change")
        revert = restore_call(control.arn, before)
        inflight.set(revert)
        self._update(control.arn, state)
        return FaultOutcome(f"ARC routing control of {region}: {before} -> {state} (its Route 53 health check "
                            f"{'fails' if state == 'Off' else 'passes'} at once)",
                            {"region": region, "arn": control.arn, "before": before, "state": state}, (revert,))

    def restore(self, arn: str, state: str) -> str:
        """Revert: ``arn`` back to ``state`` (no call when it is there already)."""
        if state not in STATES:
            raise FaultRefused(f"routing control state {state!r} is unknown: use On or Off")
        self.known(arn)
        if self.state(arn) == state:
            return f"routing control {arn} is {state} already"
        self._update(arn, state)
        return f"routing control {arn} restored to {state}"

    def view(self) -> dict[str, str | None]:
        """Each region's routing control state (None: no endpoint answered)."""
        states: dict[str, str | None] = {}
        for control in self.dns.routing_controls:
            try:
                states[control.region] = self.state(control.arn)
            except HarnessError:
                states[control.region] = None
        return states


__all__ = ["STATES", "RoutingControls", "restore_call"]
