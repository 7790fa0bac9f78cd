"""A driver's clients are closed with it: a game day creates one driver per step and must not pile up pools."""

from __future__ import annotations

from typing import Any

from aftershock.core.target import AwsSettings
from aftershock.faults.aws.session import AwsSessions


def _open_pools(client: Any) -> int:
    # botocore keeps one urllib3 pool per host; close() clears them (the moto server answers HTTP/1.0 with
    # Connection: close, so pools are what can be observed here, not sockets)
    return len(client._endpoint.http_session._manager.pools)


def test_closing_the_sessions_closes_every_cached_client(aws_env: str) -> None:
    sessions = AwsSessions(AwsSettings(allowed_account_ids=("123456789012",)))
    used = []
    for region in ("us-east-1", "us-west-2"):
        sts, ec2 = sessions.client("sts", region), sessions.client("ec2", region)
        sts.get_caller_identity()
        ec2.describe_vpcs()
        used += [sts, ec2]
    assert [_open_pools(c) for c in used] == [1, 1, 1, 1]

    sessions.close()
    assert [_open_pools(c) for c in used] == [0, 0, 0, 0]
    assert sessions.client("sts", "us-east-1") is not used[0]  # usable again: a fresh client
