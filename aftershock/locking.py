"""One run per target at a time, for ``aftershock run`` and game days: the target's kind chooses its lock.

The lab's lock is a file in its home (:class:`~aftershock.core.runlock.FileLock`), AWS's a DynamoDB lease
(:class:`~aftershock.faults.aws.lease.DynamoLease`). :func:`holding` takes the locks of every target of a run
before anything is injected and releases them on every exit; read-only commands (``--dry-run``, ``report``,
``history``, ``watch``) never call it.

Example::

    with holding([plan.target], run_id=new_run_id(plan.scenario), force=False, warn=print):
        execute(plan)
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from aftershock.core import paths
from aftershock.core.errors import TargetError
from aftershock.core.runlock import FileLock, HeldLock, Holder, RunLock, Warn
from aftershock.core.target import Target

LOCK_FILE = "run.lock"


def _lab(target: Target) -> RunLock:
    home = Path(target.lab.home) if target.lab is not None else paths.lab_dir()
    return FileLock(home / LOCK_FILE, target=target.name)


def _aws(target: Target) -> RunLock:
    from aftershock.faults.aws.lease import DynamoLease  # boto3 loads only for AWS runs

    return DynamoLease(target)


LOCKS: dict[str, Callable[[Target], RunLock]] = {"lab": _lab, "aws": _aws}
"""Target kind -> its lock; tests plug fakes in here."""


def lock_for(target: Target) -> RunLock:
    """The lock of ``target``, chosen by its kind."""
    factory = LOCKS.get(target.kind)
    if factory is None:
        raise TargetError(f"target {target.name!r} has kind {target.kind!r}, which no lock serves: use one of "
                          f"{', '.join(sorted(LOCKS))}", target=target.name)
    return factory(target)


def new_run_id(label: str) -> str:
    """A run's id: its UTC start stamp and label, as its run folder is named (``20240501T120000Z-az-outage``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "run"
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{safe}"


@contextlib.contextmanager
def holding(targets: Sequence[Target], *, run_id: str, force: bool = False, warn: Warn | None = None,
            under: str | None = None) -> Iterator[None]:
    """Hold the lock of every target (each once) while the block runs; release them on every exit.

    ``under``: the run id of the parent (a game day) that holds these locks for this run (one of its steps).
    """
    holder = Holder.here(run_id, under=under)
    held: list[HeldLock] = []
    try:
        seen: set[tuple[str, str]] = set()
        for target in targets:
            if (target.kind, target.name) in seen:
                continue
            seen.add((target.kind, target.name))
            held.append(lock_for(target).acquire(holder, force=force, warn=warn))
        yield
    finally:
        for lock in reversed(held):
            lock.release()
