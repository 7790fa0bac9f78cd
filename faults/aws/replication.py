"""Pausing DynamoDB global-table and S3 replication on AWS, and restoring exactly what was there.

- Table: what FIS's ``aws:dynamodb:global-table-pause-replication`` does, through the API: every replica's resource
  policy gets a statement denying the DynamoDB replication service role (the policy before is kept in the
  fault's revert and put back exactly, or deleted when there was none).
- Bucket: as ``aws:s3:bucket-pause-replication`` stops replication from a source bucket: every rule of its
  replication configuration is set to ``Disabled``; the revert puts the saved configuration back unchanged.

Only the target's table (``data_stores.table``) and buckets (``data_stores.buckets``) are touched; anything
else is refused before any call.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.core.target import Target
from aftershock.faults.aws.calls import CallRecorder, InFlight
from aftershock.faults.aws.session import AwsSessions
from aftershock.faults.outcome import FaultOutcome, RevertCall

PAUSE_SID = "AftershockPauseReplication"
_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:Scan", "dynamodb:DescribeTimeToLive",
            "dynamodb:UpdateTimeToLive"]


class DataReplication:
    """Pause/restore of the target's table and buckets (reads listed in a dry run, writes recorded first)."""

    def __init__(self, target: Target, sessions: AwsSessions, calls: CallRecorder) -> None:
        self.target = target
        self.sessions = sessions
        self.calls = calls

    def check_table(self, table: str) -> str:
        stores = self.target.data_stores
        if stores is None or not stores.table:
            raise FaultRefused(f"target {self.target.name!r} names no DynamoDB table: add data_stores.table")
        table = table or stores.table
        if table != stores.table:
            raise FaultRefused(f"refused: table {table!r} is not the table of target {self.target.name!r} "
                               f"({stores.table}): use it or change data_stores.table")
        return table

    def check_bucket(self, bucket: str) -> tuple[str, str]:
        """The bucket (default: the primary's) and its region."""
        stores = self.target.data_stores
        buckets = dict(stores.buckets) if stores is not None else {}
        if not buckets:
            raise FaultRefused(f"target {self.target.name!r} names no S3 buckets: add data_stores.buckets")
        bucket = bucket or buckets.get(self.target.primary.name, "")
        region = next((r for r, b in buckets.items() if b == bucket), None)
        if region is None:
            raise FaultRefused(f"refused: bucket {bucket!r} is not a bucket of target {self.target.name!r} "
                               f"({', '.join(sorted(buckets.values()))}): use one of them")
        return bucket, region

    # -- DynamoDB -------------------------------------------------------------------------------------------
    def pause_table(self, table: str, inflight: InFlight) -> FaultOutcome:
        policies: dict[str, str | None] = {}
        arns: dict[str, str] = {}
        for region in (r.name for r in self.target.regions):
            client = self.sessions.client("dynamodb", region)
            arns[region] = self.calls.read(client, "describe_table", TableName=table)["Table"]["TableArn"]
            policies[region] = self._policy(client, arns[region])
        inflight.set(RevertCall("restore_table_policy", {"table": table, "policies": policies}))
        for region, arn in arns.items():
            account = arn.split(":")[4]
            statement = {"Sid": PAUSE_SID, "Effect": "Deny", "Action": _ACTIONS, "Resource": arn, "Principal": {
                "AWS": f"arn:aws:iam::{account}:role/aws-service-role/replication.dynamodb.amazonaws.com/"
                       "AWSServiceRoleForDynamoDBReplication"}}
            existing = policies[region]
            before = json.loads(existing) if existing else {"Version": "2012-10-17", "Statement": []}
            after = {**before, "Statement": [*before.get("Statement", []), statement]}
            self.calls.write(self.sessions.client("dynamodb", region), "put_resource_policy", ResourceArn=arn,
                             Policy=json.dumps(after))
        return inflight.hand_over(FaultOutcome(
            f"paused replication of table {table} in {', '.join(arns)} (replication role denied)",
            {"table": table, "regions": list(arns)},
            (RevertCall("restore_table_policy", {"table": table, "policies": policies}),)))

    def _policy(self, client: Any, arn: str) -> str | None:
        try:
            return str(self.calls.read(client, "get_resource_policy", ResourceArn=arn)["Policy"])
        except client.exceptions.PolicyNotFoundException:
            return None
        except client.exceptions.ResourceNotFoundException:
            return None

    def restore_table_policy(self, table: str, policies: dict[str, str | None]) -> FaultOutcome:
        table = self.check_table(table)
        for region, policy in policies.items():
            client = self.sessions.client("dynamodb", region)
            arn = self.calls.read(client, "describe_table", TableName=table)["Table"]["TableArn"]
            if policy is None:
                if self._policy(client, arn) is not None:
                    self.calls.write(client, "delete_resource_policy", ResourceArn=arn)
            else:
                self.calls.write(client, "put_resource_policy", ResourceArn=arn, Policy=policy)
        return FaultOutcome(f"replication of table {table} resumed (resource policies restored)", {"table": table})

    # -- S3 -------------------------------------------------------------------------------------------------
    def pause_bucket(self, bucket: str, region: str, inflight: InFlight) -> FaultOutcome:
        client = self.sessions.client("s3", region)
        config = self.calls.read(client, "get_bucket_replication", Bucket=bucket)["ReplicationConfiguration"]
        inflight.set(RevertCall("restore_bucket_replication", {"bucket": bucket, "configuration": config}))
        paused = copy.deepcopy(config)
        for rule in paused.get("Rules", []):
            rule["Status"] = "Disabled"
        self.calls.write(client, "put_bucket_replication", Bucket=bucket, ReplicationConfiguration=paused)
        return inflight.hand_over(FaultOutcome(
            f"paused replication of bucket {bucket} ({len(paused.get('Rules', []))} rule(s) disabled)",
            {"bucket": bucket, "region": region},
            (RevertCall("restore_bucket_replication", {"bucket": bucket, "configuration": config}),)))

    def restore_bucket_replication(self, bucket: str, configuration: dict[str, Any]) -> FaultOutcome:
        bucket, region = self.check_bucket(bucket)
        self.calls.write(self.sessions.client("s3", region), "put_bucket_replication", Bucket=bucket,
                         ReplicationConfiguration=configuration)
        return FaultOutcome(f"replication of bucket {bucket} resumed (configuration restored)", {"bucket": bucket})
