"""Stateless bearer tokens: ``<user_id>.<expires_unix>.<hex HMAC-SHA256>``.

Any pod holding the shared key (``SHOP_TOKEN_KEY``) can check any pod's token, so a client keeps its
session when the load balancer moves it to another pod, AZ or region.
"""

from __future__ import annotations

import hashlib
import hmac
import time

_VERSION = b"v1"


def _signature(key: bytes, user_id: int, expires: int) -> str:
    message = b"%s:%d:%d" % (_VERSION, user_id, expires)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def issue(key: bytes, user_id: int, ttl_s: int, now: float | None = None) -> str:
    """A token for ``user_id`` valid for ``ttl_s`` seconds from ``now`` (default: the current time)."""
    if not key:
        raise ValueError("token key must not be empty")
    if user_id <= 0:
        raise ValueError("user id must be positive")
    expires = int(time.time() if now is None else now) + ttl_s
    return f"{user_id}.{expires}.{_signature(key, user_id, expires)}"


def verify(key: bytes, token: str, now: float | None = None) -> int | None:
    """The user id carried by ``token``, or None when it is malformed, forged or expired."""
    # ASCII only: compare_digest() raises on non-ASCII str, and isdigit() accepts digits int() rejects.
    if not key or len(token) > 200 or not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    user_id, expires = int(parts[0]), int(parts[1])
    if user_id <= 0 or not hmac.compare_digest(parts[2], _signature(key, user_id, expires)):
        return None
    if expires <= (time.time() if now is None else now):
        return None
    return user_id


def from_header(key: bytes, authorization: str | None, now: float | None = None) -> int | None:
    """The user id from an ``Authorization: Bearer <token>`` header value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return verify(key, token.strip(), now)
