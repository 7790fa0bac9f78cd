"""The driver registry: a target's ``kind`` chooses its driver, once.

A factory gets the target, the run folder the driver records its calls in (None: outside a run) and whether it
only plans (a dry run lists every call and changes nothing). Tests plug fakes in where drivers plug in:
``DRIVERS["lab"] = lambda target, **_: fake``.
"""

from __future__ import annotations

from typing import Protocol

from aftershock.core.errors import TargetError
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.faults.driver import Driver


class DriverFactory(Protocol):
    def __call__(self, target: Target, *, run: RunFolder | None, dry_run: bool) -> Driver: ...


def _lab(target: Target, *, run: RunFolder | None, dry_run: bool) -> Driver:
    from aftershock.faults.lab_driver import LabDriver  # the lab client stays unloaded for AWS runs

    return LabDriver(target)  # the lab's faults are one control-API call each: nothing to record or plan


def _aws(target: Target, *, run: RunFolder | None, dry_run: bool) -> Driver:
    from aftershock.faults.aws_driver import AwsDriver  # boto3 and kubernetes load only for AWS runs

    driver: Driver = AwsDriver(target, run=run, dry_run=dry_run)
    return driver


DRIVERS: dict[str, DriverFactory] = {"lab": _lab, "aws": _aws}


def driver_for(target: Target, *, run: RunFolder | None = None, dry_run: bool = False) -> Driver:
    """The driver for ``target.kind``, chosen once, recording its calls in ``run``. The caller closes it
    (:meth:`Driver.close`)."""
    factory = DRIVERS.get(target.kind)
    if factory is None:
        raise TargetError(f"target {target.name!r} has kind {target.kind!r}, which no driver serves: "
                          f"use one of {', '.join(sorted(DRIVERS))}", target=target.name)
    return factory(target, run=run, dry_run=dry_run)
