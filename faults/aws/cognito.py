"""Cognito calls of the harness, bounded to the target's user pools and test users, with a dry run.

:class:`CognitoCalls` wraps one region's ``cognito-idp`` client (boto3: the lab's stand-in or Cognito itself).
Every call naming a ``UserPoolId`` must name the target's pool of that region, and every call that creates,
changes or deletes a user must name a user under the target's ``identity.test_user_prefix``: anything else raises
:class:`~aftershock.core.errors.FaultRefused` before the call is sent. With ``dry_run`` nothing is sent: each call
is listed in :attr:`planned` (operation, region, parameters without passwords or tokens).

Example::

    calls = CognitoCalls(target, "us-east-1", boto3_client)
    calls.call("AdminDeleteUser", UserPoolId=pool_id, Username="aftershock-test-r1-00001")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aftershock.core.errors import FaultRefused
from aftershock.core.identity import Identity
from aftershock.core.target import Target

# calls that act on one user: the user must be a test user
USER_WRITES = frozenset({"SignUp", "AdminConfirmSignUp", "AdminCreateUser", "AdminSetUserPassword",
                         "AdminDeleteUser", "AdminAddUserToGroup"})
_SECRET_PARAMS = frozenset({"Password", "AccessToken", "AuthParameters", "TemporaryPassword"})


@dataclass(frozen=True)
class PlannedCall:
    """One call the dry run would have made (secrets left out)."""

    operation: str
    region: str
    params: dict[str, Any] = field(default_factory=dict)


def identity_of(target: Target) -> Identity:
    if target.identity is None:
        raise FaultRefused(f"target {target.name!r} has no identity section: add identity.pools (one user pool per "
                           "region) to the target file")
    return target.identity


class CognitoCalls:
    """``cognito-idp`` calls in ``region`` checked against ``target``'s identity section."""

    def __init__(self, target: Target, region: str, client: Any, *, dry_run: bool = False) -> None:
        identity = identity_of(target)
        pool = identity.pool(region)
        if pool is None:
            raise FaultRefused(f"target {target.name!r} has no user pool in {region}: add it to identity.pools")
        self.target, self.region, self.pool = target, region, pool
        self.prefix = identity.test_user_prefix
        self._client = client
        self.dry_run = dry_run
        self.planned: list[PlannedCall] = []

    def check(self, operation: str, params: dict[str, Any]) -> None:
        """Refuse a call outside the target's pool or test users (nothing sent)."""
        pool_id = params.get("UserPoolId")
        if pool_id is not None and pool_id != self.pool.pool_id:
            raise FaultRefused(f"{operation}: user pool {pool_id!r} is not the pool of target {self.target.name!r} "
                               f"in {self.region} ({self.pool.pool_id}): only identity.pools may be touched")
        client_id = params.get("ClientId")
        if client_id is not None and client_id != self.pool.client_id:
            raise FaultRefused(f"{operation}: app client {client_id!r} is not the client of target "
                               f"{self.target.name!r} in {self.region}: fix identity.pools[].client_id")
        user = params.get("Username")
        if operation in USER_WRITES and not (isinstance(user, str) and user.startswith(self.prefix + "-")):
            raise FaultRefused(f"{operation}: user {user!r} is not a test user (prefix {self.prefix!r}-): the harness "
                               "creates and deletes only its own users")

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.check(operation, params)
        if self.dry_run:
            self.planned.append(PlannedCall(operation, self.region,
                                            {k: v for k, v in params.items() if k not in _SECRET_PARAMS}))
            return {}
        method = getattr(self._client, _snake(operation))
        result: dict[str, Any] = method(**params)
        return result


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(operation))


__all__ = ["USER_WRITES", "CognitoCalls", "PlannedCall", "identity_of"]
