"""Aurora: where the writer is, in-region failover, Global Database switchover and failover, and the waits.

- In-region failover: ``failover_db_cluster`` always with an explicit ``TargetDBInstanceIdentifier`` (a reader
  in another AZ when there is one, the best promotion tier first, as Aurora itself picks; chaosaws passes
  ``None`` and fails), then wait until that instance is the writer and available.
  (``reboot_db_instance(ForceFailover=True)`` is not used: Aurora ignores ForceFailover.)
- A failover already under way (``InvalidDBClusterStateFault``) is a clear refusal, before anything changed.
- Global: planned ``switchover_global_cluster`` (no data loss) or unplanned
  ``failover_global_cluster(AllowDataLoss=True)``, both with the target cluster's ARN, then wait until the global
  cluster's writer member is in the target region and no failover is in progress.
- Restoring a region: after an unplanned failover Aurora rebuilds the old primary as a secondary by itself once
  it is reachable; nothing is created here, :meth:`Aurora.wait_secondary` only waits until the old region's
  cluster is a secondary member again. If it was detached, it must be rebuilt by the infrastructure code
  (the harness refuses to create databases).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from aftershock.core.errors import FaultRefused, HarnessError
from aftershock.core.target import DbCluster, Target
from aftershock.faults.aws.calls import CallRecorder
from aftershock.faults.aws.session import AwsSessions


@dataclass(frozen=True)
class Writer:
    cluster: str
    region: str
    instance: str | None
    az: str | None


def region_of_arn(arn: str) -> str:
    return arn.split(":")[3]


def name_of_arn(arn: str) -> str:
    return arn.split(":")[-1]


class Aurora:
    """Aurora clusters of one target."""

    def __init__(self, target: Target, sessions: AwsSessions, rec: CallRecorder, *, poll_s: float,
                 timeout_s: float, sleep: Callable[[float], None] = time.sleep) -> None:
        if target.database is None:
            raise FaultRefused(f"target {target.name!r} has no database section: add database.clusters")
        self._db = target.database
        self._target = target
        self._sessions = sessions
        self._rec = rec
        self._poll_s = poll_s
        self._timeout_s = timeout_s
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"Aurora(global_cluster={self._db.global_cluster!r})"

    def _rds(self, region: str) -> Any:
        return self._sessions.client("rds", region)

    def cluster(self, region: str) -> DbCluster:
        for c in self._db.clusters:
            if c.region == region:
                return c
        raise FaultRefused(f"target {self._target.name!r} has no database cluster in {region}: "
                           "add it to database.clusters")

    def describe_cluster(self, region: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._rec.read(self._rds(region), "describe_db_clusters",
                                                DBClusterIdentifier=name)["DBClusters"][0]
        return found

    def global_cluster(self) -> dict[str, Any] | None:
        if not self._db.global_cluster:
            return None
        rds = self._rds(self._target.primary.name)
        found: dict[str, Any] = self._rec.read(rds, "describe_global_clusters",
                                                GlobalClusterIdentifier=self._db.global_cluster)["GlobalClusters"][0]
        return found

    def instance_az(self, region: str, instance: str) -> str | None:
        found = self._rec.read(self._rds(region), "describe_db_instances", DBInstanceIdentifier=instance)
        az = found["DBInstances"][0].get("AvailabilityZone")
        return str(az) if az else None

    def cluster_writer(self, region: str, name: str) -> tuple[str | None, dict[str, Any]]:
        described = self.describe_cluster(region, name)
        writer = next((m["DBInstanceIdentifier"] for m in described.get("DBClusterMembers", [])
                       if m.get("IsClusterWriter")), None)
        return writer, described

    def writer_region(self) -> str:
        """The region of the writer cluster (the global cluster's writer member, else the primary cluster)."""
        glob = self.global_cluster()
        if glob is not None:
            member = next((m for m in glob.get("GlobalClusterMembers", []) if m.get("IsWriter")), None)
            if member is not None:
                return region_of_arn(member["DBClusterArn"])
        return next((c.region for c in self._db.clusters if c.role == "primary"), self._target.primary.name)

    def writer(self) -> Writer:
        region = self.writer_region()
        name = self.cluster(region).name
        instance, _ = self.cluster_writer(region, name)
        return Writer(name, region, instance, self.instance_az(region, instance) if instance else None)

    # -- in-region failover --------------------------------------------------------------------------
    def failover_in_region(self, *, away_from_az: str | None = None) -> tuple[Writer, str]:
        """Fail the writer cluster over to a reader (in another AZ when possible); returns (old, new instance)."""
        old = self.writer()
        _, described = self.cluster_writer(old.region, old.cluster)
        members = sorted((int(m.get("PromotionTier", 1)), m["DBInstanceIdentifier"])
                         for m in described.get("DBClusterMembers", []) if not m.get("IsClusterWriter"))
        readers = [name for _, name in members]  # the best promotion tier first, then by name
        avoid = away_from_az or old.az
        other_az = [r for r in readers if self.instance_az(old.region, r) != avoid]
        candidates = other_az if away_from_az else (other_az or readers)
        if not candidates:
            where = f" outside {away_from_az}" if away_from_az else ""
            raise FaultRefused(f"cluster {old.cluster} in {old.region} has no reader{where} to fail over to: "
                               "add a reader instance in another AZ")
        target_instance = candidates[0]
        with _refused_while_busy(old.cluster):
            self._rec.write(self._rds(old.region), "failover_db_cluster", DBClusterIdentifier=old.cluster,
                            TargetDBInstanceIdentifier=target_instance)
        if not self._rec.dry_run:
            self._wait(f"instance {target_instance} to become the writer of {old.cluster}",
                       lambda: self._is_cluster_writer(old.region, old.cluster, target_instance))
        return old, target_instance

    def _is_cluster_writer(self, region: str, cluster: str, instance: str) -> bool:
        writer, described = self.cluster_writer(region, cluster)
        if writer != instance or described.get("Status") != "available":
            return False
        found = self._rec.read(self._rds(region), "describe_db_instances", DBInstanceIdentifier=instance)
        return bool(found["DBInstances"][0].get("DBInstanceStatus") == "available")

    # -- global --------------------------------------------------------------------------------------
    def _global_move(self, to_region: str, *, allow_data_loss: bool) -> str:
        if not self._db.global_cluster:
            raise FaultRefused(f"target {self._target.name!r} has no database.global_cluster: "
                               "global failover/switchover needs an Aurora Global Database")
        from_region = self.writer_region()
        if from_region == to_region:
            raise FaultRefused(f"the global writer is already in {to_region}: nothing to move")
        arn = self.describe_cluster(to_region, self.cluster(to_region).name)["DBClusterArn"]
        rds = self._rds(from_region)
        with _refused_while_busy(self._db.global_cluster):
            self._move(rds, arn, allow_data_loss=allow_data_loss)
        if not self._rec.dry_run:
            self._wait(f"the global writer to move to {to_region}", lambda: self._global_writer_in(to_region))
        return from_region

    def _move(self, rds: Any, arn: str, *, allow_data_loss: bool) -> None:
        if allow_data_loss:
            self._rec.write(rds, "failover_global_cluster", GlobalClusterIdentifier=self._db.global_cluster,
                            TargetDbClusterIdentifier=arn, AllowDataLoss=True)
        else:
            self._rec.write(rds, "switchover_global_cluster", GlobalClusterIdentifier=self._db.global_cluster,
                            TargetDbClusterIdentifier=arn)

    def restore_writer(self, to_region: str) -> bool:
        """Revert of a switchover or failover: the global writer back in ``to_region``. A move under way (the
        rollback was interrupted while it waited) is waited for, never started twice; returns whether it moved."""
        if self.global_cluster() is None:
            raise FaultRefused(f"target {self._target.name!r} has no database.global_cluster: nothing to restore")
        if not self._rec.dry_run:
            self._wait("the global cluster to finish its switchover or failover", self._global_settled)
        if self.writer_region() == to_region:
            return False
        self.switchover(to_region)
        return True

    def _global_settled(self) -> bool:
        glob = self.global_cluster() or {}
        return glob.get("Status") == "available" and not (glob.get("FailoverState") or {}).get("Status")

    def switchover(self, to_region: str) -> str:
        """Planned switchover; returns the region the writer left."""
        return self._global_move(to_region, allow_data_loss=False)

    def failover(self, to_region: str) -> str:
        """Unplanned failover (data loss allowed); returns the region the writer left."""
        return self._global_move(to_region, allow_data_loss=True)

    def _global_writer_in(self, region: str) -> bool:
        glob = self.global_cluster()
        if glob is None or glob.get("Status") != "available" or (glob.get("FailoverState") or {}).get("Status"):
            return False
        return any(m.get("IsWriter") and region_of_arn(m["DBClusterArn"]) == region
                   for m in glob.get("GlobalClusterMembers", []))

    def wait_secondary(self, region: str) -> None:
        """Wait until ``region``'s cluster is a secondary member of the global cluster again."""
        name = self.cluster(region).name

        def rejoined() -> bool:
            glob = self.global_cluster()
            members = (glob or {}).get("GlobalClusterMembers", [])
            member = next((m for m in members if name_of_arn(m["DBClusterArn"]) == name
                           and region_of_arn(m["DBClusterArn"]) == region), None)
            if member is None:
                raise HarnessError(f"cluster {name} in {region} is no longer a member of global cluster "
                                   f"{self._db.global_cluster}: rebuild it as a secondary with your "
                                   "infrastructure code, then rerun `aftershock recover`")
            return not member.get("IsWriter") and self.describe_cluster(region, name).get("Status") == "available"

        if not self._rec.dry_run:
            self._wait(f"cluster {name} in {region} to rejoin as a secondary", rejoined)

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self._timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise HarnessError(f"timed out after {self._timeout_s:.0f} s waiting for {what}: check the RDS "
                                   "console/events, or raise aws.wait_timeout_s in the target file")
            self._sleep(self._poll_s)


@contextlib.contextmanager
def _refused_while_busy(what: str | None) -> Iterator[None]:
    """``InvalidDBClusterStateFault`` (a failover or switchover already running) as a refusal."""
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("InvalidDBClusterStateFault",
                                                             "InvalidGlobalClusterStateFault"):
            raise
        raise FaultRefused(f"{what} is busy (a failover or switchover is already running): wait until it is "
                           "available again, then retry") from exc
