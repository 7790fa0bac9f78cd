"""Bring the lab back to its baseline, whatever is off: the revert of a fault nobody journaled.

A harness killed with SIGKILL between the lab applying a fault and the fault's journal line leaves the lab changed
with nothing to revert in the run folder. The fault actions therefore journal an in-flight entry before each lab
call whose revert is this: ``aftershock recover`` calls it, and it restores whatever differs from the baseline
(AZs down, replication cut, regions lost, the writer away from the primary region, traffic dials moved, and what
the lab's other parts report through their own ``restore_baseline``). Nothing off the baseline: nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from aftershock.core.errors import FaultRefused
from aftershock.lab import topology

Handler = Callable[[dict[str, Any]], Any]


@runtime_checkable
class BaselinePart(Protocol):
    """A part of the lab with faults of its own (DNS, the AWS stand-ins): it undoes them here."""

    def restore_baseline(self) -> list[str]: ...


def restore_baseline(lab: Any, handlers: dict[str, Handler], parts: list[BaselinePart]) -> list[str]:
    """Undo every difference from the baseline through the lab's own fault handlers; what was done, in order."""
    done: list[str] = []

    def call(path: str, **body: Any) -> None:
        try:
            done.append(str(handlers[path](body).did))
        except FaultRefused as exc:  # already as wanted, or not possible yet: say so, go on
            done.append(f"{path}: {exc}")

    for az in sorted({a for r in topology.REGIONS for a in r.azs if lab.controller.az_down(a)}):
        call("faults/az-restore", az=az)
    fleet = lab.fleet.status()
    for region in sorted(fleet.cut_regions):
        call("faults/restore-replication", region=region)
    for region in sorted(fleet.lost_regions):
        call("faults/restore-region", region=region)
    writer = lab.fleet.topology().writer
    if writer is not None and writer.region != topology.PRIMARY.name:
        call("faults/global-switchover", region=topology.PRIMARY.name)
    dials = lab.envoy.dials()
    for region, dial in sorted(lab.settings.dials.items()):
        if dials.get(region) != dial:
            call("faults/traffic-dial", region=region, dial=dial)
    for part in parts:
        done.extend(part.restore_baseline())
    return done


__all__ = ["BaselinePart", "restore_baseline"]
