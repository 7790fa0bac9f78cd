"""An assumed role's credentials refresh themselves: a run longer than the role's session keeps working, and EKS
tokens are signed with the fresh credentials."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3

from aftershock.core.target import AwsSettings
from aftershock.faults.aws.eks import TOKEN_PREFIX, eks_token
from aftershock.faults.aws.session import AwsSessions

ROLE = "arn:aws:iam::123456789012:role/aftershock-harness"


class ShortRoleSessions:
    """A ``session_factory`` whose ``AssumeRole`` answers expire in 5 minutes (inside botocore's mandatory
    refresh window): every use of the credentials must assume the role again."""

    def __init__(self) -> None:
        self.assumed: list[str] = []

    def __call__(self, **kw: Any) -> Any:
        session = boto3.Session(**kw)
        session.events.register("after-call.sts.AssumeRole", self._shorten)
        return session

    def _shorten(self, parsed: dict[str, Any], **_: Any) -> None:
        parsed["Credentials"]["Expiration"] = datetime.now(UTC) + timedelta(minutes=5)
        self.assumed.append(parsed["Credentials"]["AccessKeyId"])


def signed_key(token: str) -> str:
    url = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX):] + "==").decode()
    return parse_qs(urlparse(url).query)["X-Amz-Credential"][0].split("/")[0]


def test_assumed_role_credentials_are_refreshed_before_they_expire(aws_env: str) -> None:
    factory = ShortRoleSessions()
    sessions = AwsSessions(AwsSettings(allowed_account_ids=("123456789012",), role_arn=ROLE),
                           session_factory=factory)
    sts = sessions.client("sts", "us-east-1")
    assert ":assumed-role/aftershock-harness/aftershock" in sts.get_caller_identity()["Arn"]
    assert len(factory.assumed) == 1

    sts.get_caller_identity()  # the role's session is about to expire: the client assumes it again
    assert len(factory.assumed) == 2 and factory.assumed[0] != factory.assumed[1]

    token = eks_token(sessions.credentials(), "us-east-1", "shop")  # signed with the refreshed credentials
    assert len(factory.assumed) == 3 and signed_key(token) == factory.assumed[-1]


def test_a_long_lived_role_session_is_assumed_once(aws_env: str) -> None:
    assumed: list[dict[str, Any]] = []

    def factory(**kw: Any) -> Any:
        session = boto3.Session(**kw)
        session.events.register("after-call.sts.AssumeRole", lambda parsed, **_: assumed.append(parsed))
        return session

    sessions = AwsSessions(AwsSettings(allowed_account_ids=("123456789012",), role_arn=ROLE),
                           session_factory=factory)
    for region in ("us-east-1", "us-west-2", "us-east-1"):
        sessions.client("sts", region).get_caller_identity()
    eks_token(sessions.credentials(), "us-east-1", "shop")
    assert len(assumed) == 1
