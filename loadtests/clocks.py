"""Each worker's clock offset to the master, estimated from the times on its stats reports.

A worker stamps every report with its clock (:data:`SENT_KEY`); the master notes its own clock on arrival. For a
worker whose clock is ``d`` ahead, ``received - sent = delay - d``; the smallest value over all reports has the
smallest network delay, so ``offset = -(min(received - sent))`` estimates ``d`` up to that smallest one-way delay
(sub-millisecond on a LAN, a few ms across a VPC). Timeline buckets are stamped with the worker's clock, so an
offset shifts that worker's requests in the timeline by as much: the RTO's error bar grows by the largest one.
"""

from __future__ import annotations

from dataclasses import dataclass

SENT_KEY = "aftershock_sent"


@dataclass(frozen=True)
class ClockEstimate:
    worker: str
    offset_ms: float
    """Worker clock minus master clock (positive: the worker is ahead), to within the smallest one-way delay."""
    reports: int


class WorkerClocks:
    """The master's running estimate per worker (fed by every report, read by the worker watch)."""

    def __init__(self) -> None:
        self._least: dict[str, float] = {}
        self._reports: dict[str, int] = {}

    def observe(self, worker: str, sent: object, received: float) -> None:
        """One report of ``worker``, stamped ``sent`` (its clock) and seen at ``received`` (ours)."""
        if not isinstance(sent, int | float) or isinstance(sent, bool):
            return  # a worker of an older version: no stamp, no estimate
        gap = received - float(sent)
        self._least[worker] = min(gap, self._least.get(worker, gap))
        self._reports[worker] = self._reports.get(worker, 0) + 1

    def estimates(self) -> list[ClockEstimate]:
        return [ClockEstimate(w, round(-gap * 1000, 1), self._reports[w]) for w, gap in sorted(self._least.items())]


__all__ = ["SENT_KEY", "ClockEstimate", "WorkerClocks"]
