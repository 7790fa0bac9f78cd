"""Reading the identity ledger back at the standby after a region failover, and cleaning its users up.

1. Settle: the standby's importer keeps importing what reached its replica of the table; the read waits until the
   set of the run's users in the standby pool has not changed for ``settle_s`` (at least one export period).
2. Lost: every acknowledged sign-up missing from the standby pool (``ListUsers`` with the run's prefix, checked
   directly against the pool). Predicted: those acknowledged after the last export snapshot the standby holds.
3. Sign-in at the standby per the target's migration path: ``reset`` sets a new password (what the user's reset
   ends with) then signs in; ``migration-trigger`` signs in with the old password (the trigger migrates).
4. Sessions: each token issued by the primary before the failover is replayed against the standby's pool
   (``GetUser``) every ``replay_interval_s`` for ``replay_s``; rejected ones are forced re-logins.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from aftershock.core.identity_rpo import IdentityRpoMeasurement
from aftershock.probes.identity.access import IdentityAccess, error_code
from aftershock.probes.identity.ledger import IdentityLedger

__all__ = ["cleanup_users", "read_back_identity", "users_in_pool"]


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


def read_back_identity(ledger: IdentityLedger, region: str, failover_at: float | None, *, settle_s: float,
                       timeout_s: float = 60.0, replay_s: float = 2.0,
                       replay_interval_s: float = 0.5) -> IdentityRpoMeasurement:
    """The ledger's figures at the standby ``region`` (call after :meth:`IdentityLedger.stop`)."""
    access = ledger.access
    prefix = f"{access.prefix}-{ledger.run_id}-"
    present = _settled(access, region, prefix, settle_s, timeout_s)
    acked = ledger.acknowledged
    lost = [s for s in acked if s.user not in present]
    last_export = access.last_export_at(region)
    signed_in = sum(_sign_in(access, region, s.user, ledger.passwords[s.user]) for s in acked)
    tokens = [token for issued_at, token in ledger.tokens.values() if failover_at is None or issued_at < failover_at]
    rejected, last_rejected_at, at_end = _replay(access, region, tokens, replay_s, replay_interval_s)
    return IdentityRpoMeasurement(
        ts=time.time(), region=region, run_id=ledger.run_id, migration=access.identity.migration,
        failover_at=failover_at, attempted=len(ledger.signups), acknowledged=len(acked), kept=len(acked) - len(lost),
        lost=len(lost), lost_seqs=tuple(s.seq for s in lost),
        after_last_export=None if last_export is None else sum(1 for s in acked if (s.acked_at or 0) > last_export),
        last_export_at=last_export,
        rpo_s=None if last_export is None or failover_at is None else round(max(0.0, failover_at - last_export), 3),
        signed_in=signed_in, login_attempts=len(acked),
        login_failure_rate=round(1 - signed_in / len(acked), 4) if acked else None,
        sessions_replayed=len(tokens), sessions_rejected=rejected,
        rejected_for_s=None if last_rejected_at is None or failover_at is None else
        round(last_rejected_at - failover_at, 3), rejected_at_end=at_end)


def cleanup_users(access: IdentityAccess, users: Iterable[str], regions: Iterable[str]) -> tuple[int, list[str]]:
    """Delete the run's users in every region that answers: (deleted, errors). Missing users are not errors."""
    deleted, errors = 0, []
    wanted = sorted(set(users))
    for region in regions:
        calls = access.pool_calls(region)
        for user in wanted:
            try:
                calls.call("AdminDeleteUser", UserPoolId=calls.pool.pool_id, Username=user)
                deleted += 1
            except Exception as exc:
                code = error_code(exc)
                if code == "UserNotFoundException":
                    continue
                errors.append(f"{region}: {code}")
                if code not in ("NotAuthorizedException",):
                    break  # the region does not answer: skip its other users
    return deleted, errors
