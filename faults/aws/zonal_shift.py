"""ARC zonal shift: AWS's own recovery action for an impaired AZ, usable as a remediation step of an experiment.

``start`` shifts the traffic of each resource (the region's ``load_balancers[].arn``, or the ARNs given) away
from an AZ with ``arc-zonal-shift start_zonal_shift``; the shift expires by itself after ``expires_in`` (ARC:
``1m`` to ``72h``). The revert cancels the shifts: those it started (by id) and any active shift of ours on the
same resources away from the same AZ (found by the comment ``aftershock zonal shift``), so a crash between the
start and its record leaves nothing behind for ``aftershock recover``.

Example::

    shifts = ZonalShifts(target, sessions, recorder)
    ids = shifts.start("us-east-1", "us-east-1a", ["arn:aws:elasticloadbalancing:..."], "1h", inflight)
    shifts.cancel("us-east-1", "us-east-1a", ["arn:aws:elasticloadbalancing:..."], ids)
"""

from __future__ import annotations

import re
from typing import Any

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import RevertCall

SERVICE = "arc-zonal-shift"
COMMENT = "aftershock zonal shift"
_EXPIRES = re.compile(r"^([1-9]\d*)([mh])$")
_MAX_MINUTES = 72 * 60


def cancel_call(region: str, az: str, resources: list[str], shifts: list[str]) -> RevertCall:
    return RevertCall("cancel_zonal_shift", {"region": region, "az": az, "resources": list(resources),
                                             "shifts": list(shifts)})


class ZonalShifts:
    """Starts and cancels ARC zonal shifts of one target's resources."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        return f"ZonalShifts(target={self._target.name!r})"

    def _arc(self, region: str) -> Any:
        return self._sessions.client(SERVICE, region)

    def resources(self, region: str, given: list[str] | None) -> list[str]:
        """``given``, else the ARNs of the target's load balancers in ``region``."""
        found = list(given) if given else [lb.arn for lb in self._target.load_balancers
                                           if lb.region == region and lb.arn]
        if not found:
            raise FaultRefused(f"start_zonal_shift: target {self._target.name!r} has no load balancer with an arn "
                               f"in {region}: add load_balancers[].arn or pass resources", target=self._target.name,
                                fault="start_zonal_shift")
        return found

    def _active(self, region: str, resource: str) -> list[dict[str, Any]]:
        shifts: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._rec.read(self._arc(region), "list_zonal_shifts", status="ACTIVE",
                                  resourceIdentifier=resource, **({"nextToken": token} if token else {}))
            shifts += page.get("items", [])
            token = page.get("nextToken")
            if not token:
                return shifts

    def start(self, region: str, az: str, resources: list[str], expires_in: str,
              inflight: InFlight) -> list[str]:
        """Shift every resource away from ``az``; returns the shift ids. Refused before anything changed when a
        resource has an active shift already (ARC allows one per resource)."""
        m = _EXPIRES.match(expires_in)
        if not m or int(m[1]) * (60 if m[2] == "h" else 1) > _MAX_MINUTES:
            raise FaultRefused(f"start_zonal_shift: expires_in {expires_in!r} is not 1m-72h: write minutes or "
                               "hours, e.g. '30m' or '2h'", target=self._target.name, fault="start_zonal_shift")
        for resource in resources:
            active = self._active(region, resource)
            if active:
                raise FaultRefused(f"start_zonal_shift: {resource} already has an active zonal shift away from "
                                   f"{active[0].get('awayFrom')} ({active[0].get('zonalShiftId')}): cancel it "
                                   "first", target=self._target.name, fault="start_zonal_shift")
        shifts: list[str] = []
        for resource in resources:
            inflight.set(cancel_call(region, az, resources, shifts))  # before it starts: found by its comment
            started = self._rec.write(self._arc(region), "start_zonal_shift", resourceIdentifier=resource,
                                      awayFrom=az, expiresIn=expires_in, comment=COMMENT,
                                      dry_result={"zonalShiftId": "zs-dry-run"})
            shifts.append(str(started["zonalShiftId"]))
        inflight.set(cancel_call(region, az, resources, shifts))
        return shifts

    def cancel(self, region: str, az: str, resources: list[str], shifts: list[str]) -> list[str]:
        """Cancel ``shifts`` and any other active shift of ours away from ``az`` on ``resources``; every one is
        tried, the failures are reported together. Returns the ids cancelled (an expired shift is gone: fine)."""
        active = [s for resource in resources for s in self._active(region, resource)]
        ours = {str(s["zonalShiftId"]) for s in active if s.get("awayFrom") == az and s.get("comment") == COMMENT}
        wanted = (set(shifts) & {str(s["zonalShiftId"]) for s in active}) | ours
        cancelled: list[str] = []
        failed: list[str] = []
        for shift in sorted(wanted):
            try:
                self._rec.write(self._arc(region), "cancel_zonal_shift", zonalShiftId=shift)
            except Exception as exc:  # reported below, with every other failure
                failed.append(f"{shift}: {type(exc).__name__}: {exc}")
            else:
                cancelled.append(shift)
        if failed:
            raise HarnessError(f"could not cancel zonal shift(s) {'; '.join(failed)}: cancel them in the ARC "
                               "console, then rerun `aftershock recover RUN_FOLDER`", target=self._target.name,
                               fault="cancel_zonal_shift")
        return cancelled
