"""Bounded retries of AWS calls that fail for a while and then succeed.

- EC2 is eventually consistent: right after a network ACL is created, a replace of an association can answer
  ``InvalidNetworkAclID.NotFound``; right after an association moved, deleting the old ACL can answer
  ``DependencyViolation``.
- Starting an instance can answer ``InsufficientInstanceCapacity`` (the AZ has no room for its type right now).

:func:`retried` retries those codes with exponential backoff, a bounded number of times, then re-raises.

Example::

    retried(lambda: ec2.start_instances(InstanceIds=[i]), codes=CAPACITY, base_s=5.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

CAPACITY = frozenset({"InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientCapacityOnHost",
                      "IncorrectInstanceState"})
EVENTUAL = frozenset({"InvalidNetworkAclID.NotFound", "InvalidAssociationID.NotFound", "DependencyViolation"})
ATTEMPTS = 5


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``None`` for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "") or None
    return None


def retried(do: Callable[[], T], *, codes: frozenset[str], base_s: float, attempts: int = ATTEMPTS,
            sleep: Callable[[float], None] = time.sleep) -> T:
    """``do()``, retried after ``base_s``, ``2 x base_s``, ... while it fails with one of ``codes``."""
    for attempt in range(attempts):
        try:
            return do()
        except ClientError as exc:
            if error_code(exc) not in codes or attempt == attempts - 1:
                raise
            sleep(base_s * 2 ** attempt)
    raise AssertionError("unreachable")  # pragma: no cover
