"""RDS events (``describe_events``) as RTO phase boundaries: when Aurora started and finished a failover.

The messages are matched by their documented text ("Amazon RDS event categories and event messages for Aurora");
``describe_events`` returns the message, not the event id, so the id in :attr:`PlatformEvent.what` is the one the
documentation gives for that text:

* detected - RDS-EVENT-0073 / 0072 "Started cross AZ / same AZ failover to DB instance: ..." (db-cluster),
  RDS-EVENT-0181 "Global switchover to DB cluster ... started." (db-cluster), RDS-EVENT-0390 "Attempt to block
  writes for DB cluster ... succeeded." (db-instance: Aurora began a global switchover or failover);
* repaired - RDS-EVENT-0071 "Completed failover to DB instance: ...", RDS-EVENT-0184 "New primary DB cluster ... was
  successfully promoted.", RDS-EVENT-0185 "Global switchover to DB cluster ... finished." (some accounts say
  "completed"), RDS-EVENT-0238 "Global failover to DB cluster ... completed.", RDS-EVENT-0397 "Aurora finished
  changing the DNS name that the global writer endpoint resolves to." (db-cluster), RDS-EVENT-0385 "Cluster
  topology is updated." (db-instance: the cluster's DNS changed, as after a failover).

A failed failover (RDS-EVENT-0069, 0187, 0239) marks nothing: it repaired nothing.

Per region of the target's clusters, one ``describe_events`` for ``db-cluster`` and one for ``db-instance`` sources
(paginated by ``Marker``, at most :data:`MAX_PAGES` pages of 100), kept when the source is one of the target's
clusters or instances and the event lies in ``[since, until]``. No ``EventCategories`` filter: the window is
minutes long, and a message, not a category, decides. RDS emits events "on a best effort basis": a missing one
leaves its phase unknown, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aftershock.core.errors import HarnessError
from aftershock.core.phases import Boundary, PlatformEvent
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.session import AwsSessions

RDS_SOURCE = "rds-events"
MAX_PAGES = 20
PAGE_SIZE = 100

RDS_MESSAGES: tuple[tuple[re.Pattern[str], Boundary, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), boundary, event_id) for pattern, boundary, event_id in (
        (r"Started cross AZ failover to DB instance", Boundary.DETECTED, "RDS-EVENT-0073"),
        (r"Started same AZ failover to DB instance", Boundary.DETECTED, "RDS-EVENT-0072"),
        (r"Global switchover to DB cluster .* started", Boundary.DETECTED, "RDS-EVENT-0181"),
        (r"Attempt to block writes for DB cluster .* succeeded", Boundary.DETECTED, "RDS-EVENT-0390"),
        (r"Completed failover to DB instance", Boundary.REPAIRED, "RDS-EVENT-0071"),
        (r"New primary DB cluster .* was successfully promoted", Boundary.REPAIRED, "RDS-EVENT-0184"),
        (r"Global switchover to DB cluster .* (finished|completed)", Boundary.REPAIRED, "RDS-EVENT-0185"),
        (r"Global failover to DB cluster .* completed", Boundary.REPAIRED, "RDS-EVENT-0238"),
        (r"Aurora finished changing the DNS name that the global writer endpoint", Boundary.REPAIRED,
         "RDS-EVENT-0397"),
        (r"Cluster topology is updated", Boundary.REPAIRED, "RDS-EVENT-0385"),
    ))
"""(message pattern, boundary, documented event id), matched at the start of the message."""


def boundary_of(message: str) -> tuple[Boundary, str] | None:
    """The boundary a message marks and its documented event id; None: it marks none."""
    for pattern, boundary, event_id in RDS_MESSAGES:
        if pattern.match(message.strip()):
            return boundary, event_id
    return None


class RdsEvents:
    """The RDS events of one target's Aurora clusters and their instances."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder) -> None:
        self._target = target
        self._sessions = sessions
        self._rec = rec

    def __repr__(self) -> str:
        return f"RdsEvents(target={self._target.name!r})"

    @property
    def asked(self) -> bool:
        """Whether the target has clusters to ask about."""
        return self._target.database is not None

    def _names(self) -> dict[str, dict[str, set[str]]]:
        """region -> source type -> the target's cluster / instance names there."""
        found: dict[str, dict[str, set[str]]] = {}
        for cluster in self._target.database.clusters if self._target.database else ():
            where = found.setdefault(cluster.region, {"db-cluster": set(), "db-instance": set()})
            where["db-cluster"].add(cluster.name)
            where["db-instance"].update(i.name for i in cluster.instances)
        return found

    def read(self, since: float, until: float) -> tuple[PlatformEvent, ...]:
        """The boundary events in ``[since, until]`` (epoch s), oldest first; a failed call raises
        :class:`HarnessError` naming the region and the fix."""
        found = []
        for region, by_type in sorted(self._names().items()):
            for source_type, names in sorted(by_type.items()):
                for event in self._events(region, source_type, since, until):
                    if str(event.get("SourceIdentifier")) not in names or not isinstance(event.get("Date"),
                                                                                         datetime):
                        continue
                    ts = event["Date"].timestamp()
                    message = str(event.get("Message") or "")
                    mark = boundary_of(message)
                    if mark is not None and since <= ts <= until:
                        found.append(PlatformEvent(ts, mark[0], f"rds {event['SourceIdentifier']}: "
                                                                f"{message.strip()} ({mark[1]})"))
        return tuple(sorted(found, key=lambda e: e.ts))

    def _events(self, region: str, source_type: str, since: float, until: float) -> Iterator[dict[str, Any]]:
        rds = self._sessions.client("rds", region)
        params: dict[str, Any] = {"SourceType": source_type, "MaxRecords": PAGE_SIZE,
                                  "StartTime": datetime.fromtimestamp(int(since) - 1, UTC),
                                  "EndTime": datetime.fromtimestamp(int(until) + 2, UTC)}
        for _ in range(MAX_PAGES):
            try:
                page = self._rec.read(rds, "describe_events", **params)
            except (ClientError, BotoCoreError) as exc:
                detail = str(exc) if isinstance(exc, ClientError) else f"{type(exc).__name__}: {exc}"
                raise HarnessError(
                    f"{RDS_SOURCE}: describe_events ({source_type}) in {region} failed ({detail}): grant "
                    "rds:DescribeEvents to the harness role (targets/iam-policy.json) and check the region's RDS API",
                    target=self._target.name) from exc
            yield from page.get("Events", [])
            marker = page.get("Marker")
            if not marker:
                return
            params["Marker"] = marker
        raise HarnessError(f"{RDS_SOURCE}: more than {MAX_PAGES * PAGE_SIZE} {source_type} events in {region} "
                           f"between {since:.0f} and {until:.0f}: too many to read, so the RTO phases stay unknown",
                           target=self._target.name)


__all__ = ["MAX_PAGES", "RDS_MESSAGES", "RDS_SOURCE", "RdsEvents", "boundary_of"]
