"""boto3 sessions and clients, one per (service, region), created under a lock.

No process-global default session: each :class:`AwsSessions` holds its own ``boto3.Session`` (built from the
target's ``aws.profile``, then ``aws.role_arn`` assumed once), so two drivers never share credentials by accident.
boto3 reads ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` itself, which is how the tests point every call at
a local moto server.

Example::

    sessions = AwsSessions(target.aws)
    ec2 = sessions.client("ec2", "us-east-1")

``session_factory`` is the seam for the tests' fakes of what moto lacks (they register botocore event handlers
on the session they build).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from aftershock.core.target import AwsSettings

SessionFactory = Callable[..., Any]

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)


class AwsSessions:
    """Clients of one AWS identity, cached per (service, region); thread-safe."""

    def __init__(self, settings: AwsSettings, *, session_factory: SessionFactory = boto3.Session) -> None:
        self._settings = settings
        self._factory = session_factory
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}

    def __repr__(self) -> str:
        return f"AwsSessions(profile={self._settings.profile!r}, role_arn={self._settings.role_arn!r})"

    def _base(self) -> Any:
        if self._session is None:
            session = self._factory(profile_name=self._settings.profile) if self._settings.profile \
                else self._factory()
            if self._settings.role_arn:
                creds = session.client("sts", config=_CONFIG).assume_role(
                    RoleArn=self._settings.role_arn, RoleSessionName="aftershock")["Credentials"]
                assumed = self._factory(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"])
                session = assumed
            self._session = session
        return self._session

    def credentials(self) -> Any:
        """The botocore credentials of this identity (for EKS tokens)."""
        return self._base().get_credentials()

    def client(self, service: str, region: str) -> Any:
        """The boto3 client of ``service`` in ``region`` (created once)."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._base().client(service, region_name=region, config=_CONFIG)
            return self._clients[key]
