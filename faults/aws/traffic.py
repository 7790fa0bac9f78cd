"""Global Accelerator: the traffic dial of each region's endpoint group (the GA API lives in ``aws.ga_region``).

Example::

    dials = FrontDoor(target, sessions, recorder)
    previous = dials.set_dial("us-east-1", 0)     # region evacuation; revert: set_dial("us-east-1", previous)
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.session import AwsSessions


class FrontDoor:
    """The accelerator's endpoint groups (one per region)."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        assert target.aws is not None
        self._target = target
        self._region = target.aws.ga_region
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        return f"FrontDoor(listener={self._target.front_door.listener_arn!r}, api_region={self._region!r})"

    @property
    def api_region(self) -> str:
        return self._region

    def _ga(self) -> Any:
        return self._sessions.client("globalaccelerator", self._region)

    def _listener(self) -> str:
        fd = self._target.front_door
        if fd.listener_arn:
            return fd.listener_arn
        if not fd.accelerator_arn:
            raise FaultRefused(f"target {self._target.name!r} has neither front_door.listener_arn nor "
                               "front_door.accelerator_arn: add the accelerator's ARN to the target file")
        listeners = self._rec.read(self._ga(), "list_listeners", AcceleratorArn=fd.accelerator_arn)["Listeners"]
        if not listeners:
            raise FaultRefused(f"accelerator {fd.accelerator_arn} has no listener: check front_door.accelerator_arn")
        return str(listeners[0]["ListenerArn"])

    def endpoint_groups(self) -> dict[str, dict[str, Any]]:
        """Endpoint groups by region."""
        groups = self._rec.read(self._ga(), "list_endpoint_groups", ListenerArn=self._listener(),
                                MaxResults=100)["EndpointGroups"]
        return {g["EndpointGroupRegion"]: g for g in groups}

    def dials(self) -> dict[str, int]:
        return {region: int(g.get("TrafficDialPercentage", 100)) for region, g in self.endpoint_groups().items()}

    def endpoints_healthy(self) -> dict[str, bool]:
        """Per region: every endpoint of the group reports HEALTHY."""
        return {region: all(e.get("HealthState") == "HEALTHY" for e in g.get("EndpointDescriptions", []))
                for region, g in self.endpoint_groups().items()}

    def set_dial(self, region: str, dial: int) -> int:
        """Set ``region``'s dial; returns the previous one."""
        group = self.endpoint_groups().get(region)
        if group is None:
            raise FaultRefused(f"the accelerator's listener has no endpoint group in {region}: "
                               "check front_door.listener_arn and the region")
        previous = int(group.get("TrafficDialPercentage", 100))
        self._rec.write(self._ga(), "update_endpoint_group", EndpointGroupArn=group["EndpointGroupArn"],
                        TrafficDialPercentage=dial)
        return previous
