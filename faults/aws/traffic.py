"""Global Accelerator: the traffic dials of each region's endpoint groups (the GA API lives in ``aws.ga_region``).

An accelerator routes each listener (port range) through its own endpoint groups, so a region is evacuated only
when the dial of its group is changed on *every* listener: with ``front_door.accelerator_arn`` set, all of the
accelerator's listeners are changed (and restored, each group to its own previous dial); with only
``front_door.listener_arn``, that listener's groups.

Example::

    dials = FrontDoor(target, sessions, recorder)
    previous = dials.set_dial("us-east-1", 0)     # {group ARN: dial before}; revert: restore(region, previous)
"""

from __future__ import annotations

from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.network import pages
from aftershock.faults.aws.session import AwsSessions


class FrontDoor:
    """The accelerator's endpoint groups (one per region and listener)."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        assert target.aws is not None
        self._target = target
        self._region = target.aws.ga_region
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        fd = self._target.front_door
        return f"FrontDoor(accelerator={fd.accelerator_arn!r}, listener={fd.listener_arn!r}, " \
               f"api_region={self._region!r})"

    @property
    def api_region(self) -> str:
        return self._region

    def _ga(self) -> Any:
        return self._sessions.client("globalaccelerator", self._region)

    def listeners(self) -> list[str]:
        """Every listener of ``front_door.accelerator_arn``, else ``front_door.listener_arn``."""
        fd = self._target.front_door
        if not fd.accelerator_arn:
            if not fd.listener_arn:
                raise FaultRefused(f"target {self._target.name!r} has neither front_door.listener_arn nor "
                                   "front_door.accelerator_arn: add the accelerator's ARN to the target file")
            return [fd.listener_arn]
        listeners = pages(self._rec, self._ga(), "list_listeners", "Listeners", AcceleratorArn=fd.accelerator_arn,
                          MaxResults=100)
        if not listeners:
            raise FaultRefused(f"accelerator {fd.accelerator_arn} has no listener: check front_door.accelerator_arn")
        return sorted(str(listener["ListenerArn"]) for listener in listeners)

    def endpoint_groups(self) -> dict[str, list[dict[str, Any]]]:
        """Endpoint groups by region (one per listener)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for listener in self.listeners():
            for g in pages(self._rec, self._ga(), "list_endpoint_groups", "EndpointGroups", ListenerArn=listener,
                           MaxResults=100):
                found.setdefault(g["EndpointGroupRegion"], []).append(g)
        return found

    def group_dials(self, groups: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, dict[str, int]]:
        """Per region: endpoint group ARN -> traffic dial (of ``groups`` when given, else listed now)."""
        return {region: {g["EndpointGroupArn"]: int(g.get("TrafficDialPercentage", 100)) for g in in_region}
                for region, in_region in (self.endpoint_groups() if groups is None else groups).items()}

    def dials(self) -> dict[str, int]:
        """Per region: its dial (the lowest of its listeners' groups when they differ)."""
        return {region: min(groups.values()) for region, groups in self.group_dials().items() if groups}

    def endpoints_healthy(self, groups: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, bool]:
        """Per region: every endpoint of every group reports HEALTHY."""
        return {region: all(e.get("HealthState") == "HEALTHY"
                            for g in in_region for e in g.get("EndpointDescriptions", []))
                for region, in_region in (self.endpoint_groups() if groups is None else groups).items()}

    def set_dial(self, region: str, dial: int, current: dict[str, int] | None = None) -> dict[str, int]:
        """Set ``region``'s dial on every listener; returns each group's previous dial (``current``: the region's
        group dials when just read)."""
        groups = self.group_dials().get(region) if current is None else current
        if not groups:
            raise FaultRefused(f"the accelerator's listeners have no endpoint group in {region}: "
                               "check front_door.accelerator_arn (or listener_arn) and the region")
        return self.restore(region, dict.fromkeys(groups, dial), groups)

    def restore(self, region: str, wanted: dict[str, int], current: dict[str, int] | None = None) -> dict[str, int]:
        """Set each group of ``wanted`` to its dial (groups there already are left alone); returns the dials
        before."""
        current = self.group_dials().get(region, {}) if current is None else current
        for arn, dial in sorted(wanted.items()):
            if arn in current and current[arn] != dial:
                self._rec.write(self._ga(), "update_endpoint_group", EndpointGroupArn=arn,
                                TrafficDialPercentage=dial)
        return dict(current)
