"""Delete a run's identity test users in every region that answers, from the run folder alone.

Used by every finish path of the identity ledger: its result probe, the rollback, and ``aftershock recover`` after
the harness was SIGKILLed (nothing in memory survives). The run folder's record gives the run's user prefix
(``<identity.test_user_prefix>-<run>-``); each pool is then listed with that prefix (``ListUsers``, read from the
pool itself, so the user being signed up when the harness died and the users the standby imported are found too)
and those users are deleted; a dry run lists the deletion of the users the record names. Users of the pool outside
the prefix are never listed, and the guardrails of :class:`~aftershock.faults.aws.cognito.CognitoCalls` refuse any
other deletion. Deleting again is harmless.

Example::

    done = cleanup_identity_users(run_dir, target)
    done.lines   # ("identity ledger: 41 test user(s) deleted in us-east-1", ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aftershock.core.target import Target
from aftershock.probes.identity.access import IdentityAccess, error_code
from aftershock.probes.identity.readback import users_in_pool
from aftershock.probes.identity.record import IdentityRecord, read_identity_record

__all__ = ["IdentityCleanup", "cleanup_identity_users"]


@dataclass(frozen=True)
class IdentityCleanup:
    """What was deleted (``lines``: one per region) and what failed (``errors``: ``"<region>: <code>"``)."""

    deleted: int = 0
    lines: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def _delete_in(access: IdentityAccess, region: str, record: IdentityRecord) -> int:
    calls = access.pool_calls(region)
    users = users_in_pool(access, region, record.user_prefix)
    if access.dry_run:  # nothing was listed: plan the deletion of every user the record names
        users = {s.user for s in record.signups}
    deleted = 0
    for user in sorted(users):
        try:
            calls.call("AdminDeleteUser", UserPoolId=calls.pool.pool_id, Username=user)
            deleted += 1
        except Exception as exc:
            if error_code(exc) != "UserNotFoundException":  # gone meanwhile: not an error
                raise
    return deleted


def cleanup_identity_users(run_dir: Path, target: Target, *, access: IdentityAccess | None = None,
                           ) -> IdentityCleanup:
    """Delete the test users of ``run_dir``'s identity ledger in every region of ``target`` that answers (a
    region that does not is reported, never raised). Nothing to do when the ledger never started."""
    record = read_identity_record(run_dir)
    if not record.started or target.identity is None:
        return IdentityCleanup()
    own = access is None
    access = access or IdentityAccess(target)
    deleted, lines, errors = 0, [], []
    try:
        for region in (r.name for r in target.regions if target.identity.pool(r.name) is not None):
            try:
                count = _delete_in(access, region, record)
            except Exception as exc:  # a lost region, a lab that is down: say so, go on with the others
                code = error_code(exc)
                errors.append(f"{region}: {code}")
                lines.append(f"identity ledger: cleanup in {region} failed ({code}: {str(exc)[:160]}); delete the "
                             f"users starting {record.user_prefix!r} from its user pool by hand")
                continue
            deleted += count
            lines.append(f"identity ledger: {count} test user(s) deleted in {region}")
    finally:
        if own:
            access.close()
    return IdentityCleanup(deleted, tuple(lines), tuple(errors))
