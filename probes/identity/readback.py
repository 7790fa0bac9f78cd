"""Reading the identity ledger back at the standby after a region failover (the clean-up of its users is
:mod:`~aftershock.probes.identity.cleanup`).

1. Settle: the standby's importer keeps importing what reached its replica of the table; the read waits until the
   set of the run's users in the standby pool has not changed for ``settle_s`` (at least one export period).
2. Lost: every acknowledged sign-up missing from the standby pool (``ListUsers`` with the run's prefix, checked
   directly against the pool). Predicted: those acknowledged after the last export snapshot the standby holds.
3. Sign-in at the standby per the target's migration path: ``reset`` sets a new password (what the user's reset
   ends with) then signs in; ``migration-trigger`` signs in with the old password (the trigger migrates).
4. Sessions: each token issued by the primary before the failover is replayed against the standby's pool
   (``GetUser``) every ``replay_interval_s`` for ``replay_s``; rejected ones are forced re-logins.

A :class:`LedgerView` without the secrets (read from the run folder by another process) reads back 1-2 as
usual, 3 for ``reset`` only, and reports 4 (and 3 for ``migration-trigger``) as unknown.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.probes.identity.access import IdentityAccess, error_code
from aftershock.probes.identity.ledger import IdentityLedger, SignUp

__all__ = ["LedgerView", "read_back_identity", "read_back_view", "users_in_pool"]


def users_in_pool(access: IdentityAccess, region: str, prefix: str) -> set[str]:
    """The names of the pool's users starting with ``prefix`` (read directly from the pool)."""
    calls = access.pool_calls(region)
    found: set[str] = set()
    token: str | None = None
    while True:
        page = calls.call("ListUsers", UserPoolId=calls.pool.pool_id, Filter=f'username ^= "{prefix}"', Limit=60,
                          **({"PaginationToken": token} if token else {}))
        found.update(str(u["Username"]) for u in page.get("Users") or [])
        token = page.get("PaginationToken")
        if not token:
            return found


def _settled(access: IdentityAccess, region: str, prefix: str, settle_s: float, timeout_s: float) -> set[str]:
    deadline = time.monotonic() + timeout_s
    seen = users_in_pool(access, region, prefix)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < settle_s and time.monotonic() < deadline:
        time.sleep(min(0.25, settle_s / 4))
        now = users_in_pool(access, region, prefix)
        if now != seen:
            seen, stable_since = now, time.monotonic()
    return seen


def _sign_in(access: IdentityAccess, region: str, user: str, password: str) -> bool:
    calls = access.pool_calls(region)
    try:
        if access.identity.migration == "reset":
            password = "Ax1!" + secrets.token_urlsafe(12)
            calls.call("AdminSetUserPassword", UserPoolId=calls.pool.pool_id, Username=user, Password=password,
                       Permanent=True)
        answer = calls.call("InitiateAuth", ClientId=calls.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                            AuthParameters={"USERNAME": user, "PASSWORD": password})
    except Exception:  # refused (no such user, wrong password) or unavailable: this sign-in failed
        return False
    return "AuthenticationResult" in answer


def _replay(access: IdentityAccess, region: str, tokens: list[str], replay_s: float,
            interval_s: float) -> tuple[int, float | None, bool]:
    """(rejected at the first replay, last time one was seen rejected, still rejected at the end)."""
    calls = access.pool_calls(region)
    pending = set(range(len(tokens)))
    first_rejected: int | None = None
    last_rejected_at: float | None = None
    deadline = time.monotonic() + replay_s
    while pending:
        for index in sorted(pending):
            try:
                calls.call("GetUser", AccessToken=tokens[index])
                pending.discard(index)
            except Exception as exc:
                if error_code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
                    last_rejected_at = time.time()
                # anything else (unavailable): not a verdict on the token, tried again
        if first_rejected is None:
            first_rejected = len(pending)
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    return first_rejected or 0, last_rejected_at, bool(pending) and last_rejected_at is not None


@dataclass(frozen=True)
class LedgerView:
    """What a read-back works from: the run's sign-ups, and the secrets when this process still holds them
    (``passwords`` / ``tokens`` None: unknown, the figures that need them are reported unknown)."""

    run_id: str
    signups: tuple[SignUp, ...]
    passwords: Mapping[str, str] | None = None
    tokens: Mapping[int, tuple[float, str]] | None = None
    """seq -> (issued_at, access token)."""


def read_back_identity(ledger: IdentityLedger, region: str, failover_at: float | None, *, settle_s: float,
                       timeout_s: float = 60.0, replay_s: float = 2.0,
                       replay_interval_s: float = 0.5) -> IdentityRpoMeasurement:
    """The ledger's figures at the standby ``region`` (call after :meth:`IdentityLedger.stop`)."""
    view = LedgerView(ledger.run_id, tuple(ledger.signups), ledger.passwords, ledger.tokens)
    return read_back_view(ledger.access, view, region, failover_at, settle_s=settle_s, timeout_s=timeout_s,
                          replay_s=replay_s, replay_interval_s=replay_interval_s)


def _signed_in(access: IdentityAccess, region: str, acked: list[SignUp],
               passwords: Mapping[str, str] | None) -> int | None:
    """How many acknowledged users sign in at ``region``; None: unknown (the migration trigger needs the old
    password, which only the process that signed the user up knew)."""
    if passwords is None and access.identity.migration != "reset":
        return None
    return sum(_sign_in(access, region, s.user, (passwords or {}).get(s.user, "")) for s in acked)


def read_back_view(access: IdentityAccess, view: LedgerView, region: str, failover_at: float | None, *,
                   settle_s: float, timeout_s: float = 60.0, replay_s: float = 2.0,
                   replay_interval_s: float = 0.5) -> IdentityRpoMeasurement:
    """The figures of ``view``'s sign-ups at the standby ``region`` (see the module docstring)."""
    prefix = f"{access.prefix}-{view.run_id}-"
    present = _settled(access, region, prefix, settle_s, timeout_s)
    acked = [s for s in view.signups if s.acked_at is not None]
    lost = [s for s in acked if s.user not in present]
    last_export = access.last_export_at(region)
    signed_in = _signed_in(access, region, acked, view.passwords)
    tokens = None if view.tokens is None else [
        token for issued_at, token in view.tokens.values() if failover_at is None or issued_at < failover_at]
    rejected, last_rejected_at, at_end = _replay(access, region, tokens or [], replay_s, replay_interval_s)
    return IdentityRpoMeasurement(
        ts=time.time(), region=region, run_id=view.run_id, migration=access.identity.migration,
        failover_at=failover_at, attempted=len(view.signups), acknowledged=len(acked), kept=len(acked) - len(lost),
        lost=len(lost), lost_seqs=tuple(s.seq for s in lost),
        after_last_export=None if last_export is None else sum(1 for s in acked if (s.acked_at or 0) > last_export),
        last_export_at=last_export,
        rpo_s=None if last_export is None or failover_at is None else round(max(0.0, failover_at - last_export), 3),
        signed_in=signed_in, login_attempts=len(acked),
        login_failure_rate=round(1 - signed_in / len(acked), 4) if acked and signed_in is not None else None,
        sessions_replayed=None if tokens is None else len(tokens),
        sessions_rejected=None if tokens is None else rejected,
        rejected_for_s=None if last_rejected_at is None or failover_at is None else
        round(last_rejected_at - failover_at, 3), rejected_at_end=at_end)
