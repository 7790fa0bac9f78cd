"""boto3 sessions and clients, one per (service, region), created under a lock.

No process-global default session: each :class:`AwsSessions` holds its own ``boto3.Session`` (built from the
target's ``aws.profile``, then ``aws.role_arn`` assumed), so two drivers never share credentials by accident.
The assumed role's credentials refresh themselves (botocore ``DeferredRefreshableCredentials`` fed by an
``AssumeRoleCredentialFetcher`` on the source identity): a run longer than the role's session (one hour by
default) keeps working, and EKS tokens are signed with the fresh credentials too.
boto3 reads ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` itself, which is how the tests point every call at
a local moto server.

Example::

    sessions = AwsSessions(target.aws)
    ec2 = sessions.client("ec2", "us-east-1")

``session_factory`` is the seam for the tests' fakes of what moto lacks (they register botocore event handlers
on the session they build); it is called like ``boto3.Session`` (``profile_name=``, or ``botocore_session=`` for
the assumed role's session).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, CredentialResolver, DeferredRefreshableCredentials

from aftershock.core.target import AwsSettings

SessionFactory = Callable[..., Any]

_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30)
ROLE_SESSION_NAME = "aftershock"


class _Provider:
    """A botocore credential provider that hands out one (refreshing) credentials object."""

    METHOD = "aftershock-assume-role"

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def assumed_role_credentials(source: Any, role_arn: str) -> Any:
    """Credentials of ``role_arn`` assumed from the boto3 session ``source``, refreshed by a new ``AssumeRole``
    (made with ``source``'s own, possibly refreshing, credentials) before they expire."""
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=lambda service, **kw: source.client(service, config=_CONFIG, **kw),
        source_credentials=source.get_credentials(), role_arn=role_arn,
        extra_args={"RoleSessionName": ROLE_SESSION_NAME})
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method=_Provider.METHOD)


class AwsSessions:
    """Clients of one AWS identity, cached per (service, region); thread-safe."""

    def __init__(self, settings: AwsSettings, *, session_factory: SessionFactory = boto3.Session) -> None:
        self._settings = settings
        self._factory = session_factory
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[tuple[str, ...], Any] = {}

    def __repr__(self) -> str:
        return f"AwsSessions(profile={self._settings.profile!r}, role_arn={self._settings.role_arn!r})"

    def _base(self) -> Any:
        if self._session is None:
            session = self._factory(profile_name=self._settings.profile) if self._settings.profile \
                else self._factory()
            if self._settings.role_arn:
                core = botocore.session.Session()
                core.register_component("credential_provider", CredentialResolver(
                    [_Provider(assumed_role_credentials(session, self._settings.role_arn))]))
                session = self._factory(botocore_session=core)
            self._session = session
        return self._session

    def credentials(self) -> Any:
        """The botocore credentials of this identity (for EKS tokens); refreshing ones for an assumed role."""
        return self._base().get_credentials()

    def client(self, service: str, region: str) -> Any:
        """The boto3 client of ``service`` in ``region`` (created once)."""
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._base().client(service, region_name=region, config=_CONFIG)
            return self._clients[key]

    def endpoint_client(self, service: str, region: str, endpoint_url: str, config: Config) -> Any:
        """The client of ``service`` at ``endpoint_url`` (an ARC cluster's regional endpoint), created once per
        ``config`` (a module constant: faults and the sampler's quick reads use different timeouts)."""
        key = (service, region, endpoint_url, str(id(config)))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._base().client(service, region_name=region, endpoint_url=endpoint_url,
                                                         config=config)
            return self._clients[key]

    def close(self) -> None:
        """Close every cached client's connection pool (a driver per run must not leak sockets over a game day)."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "close", None)  # botocore >= 1.29 clients close their HTTP pools
            if close is not None:
                close()
