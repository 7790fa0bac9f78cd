"""Route 53 ARC routing controls in the lab: an On/Off switch per region and its RECOVERY_CONTROL health check.

On AWS a routing control lives on an ARC cluster; a Route 53 health check of type RECOVERY_CONTROL reports its
state (healthy while On) without probing anything, and the region's failover record carries that check next to
its target's health (an alias with Evaluate Target Health; the lab's HTTP check of the ALB). Turning the primary's
control Off therefore takes its record out at once: no failure threshold to wait for, only the TTL.

Example::

    control = RoutingControlCheck("us-east-1", emit, on_change=dns.answer_may_change)
    control.set("Off")   # emits arc.routing_control_updated and dns.health_check_failed (rc-us-east-1)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from aftershock.core.errors import FaultRefused
from aftershock.lab.events import Emit

STATES = ("On", "Off")
LAB_ACCOUNT = "000000000000"


def lab_arn(region: str) -> str:
    """The lab's routing control of ``region``, named like an ARC one."""
    return (f"arn:aws:route53-recovery-control::{LAB_ACCOUNT}:controlpanel/aftershock-lab/routingcontrol/"
            f"rc-{region}")


class RoutingControlCheck:
    """One region's routing control and the RECOVERY_CONTROL health check that follows it."""

    def __init__(self, region: str, emit: Emit, on_change: Callable[[], None]) -> None:
        self.region = region
        self.id = f"rc-{region}"
        self.arn = lab_arn(region)
        self._emit = emit
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = "On"

    def __repr__(self) -> str:
        return f"RoutingControlCheck({self.region!r}, state={self.state!r})"

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    @property
    def healthy(self) -> bool:
        return self.state == "On"

    def set(self, state: object) -> str:
        """Turn the control ``state``; returns the state before. :class:`FaultRefused` when it is there already."""
        if state not in STATES:
            raise FaultRefused(f"routing control state {state!r} is unknown: use On or Off")
        with self._lock:
            before, self._state = self._state, str(state)
        if before == state:
            raise FaultRefused(f"the routing control {self.id} of {self.region} is {state} already")
        self._emit("arc.routing_control_updated", control=self.id, arn=self.arn, region=self.region, state=state,
                   before=before)
        self._emit("dns.health_check_recovered" if state == "On" else "dns.health_check_failed", check=self.id,
                   region=self.region, type="RECOVERY_CONTROL", routing_control=self.arn)
        self._on_change()
        return before

    def view(self) -> dict[str, str]:
        state = self.state
        return {"id": self.id, "region": self.region, "arn": self.arn, "state": state,
                "status": "healthy" if state == "On" else "unhealthy"}


__all__ = ["LAB_ACCOUNT", "STATES", "RoutingControlCheck", "lab_arn"]
