"""The driver registry: a target's ``kind`` chooses its driver, once.

Tests plug fakes in where drivers plug in: ``DRIVERS["lab"] = FakeDriver``.
"""

from __future__ import annotations

from collections.abc import Callable

from aftershock.core.errors import TargetError
from aftershock.core.target import Target
from aftershock.faults.driver import Driver

DriverFactory = Callable[[Target], Driver]


def _lab(target: Target) -> Driver:
    from aftershock.faults.lab_driver import LabDriver  # the lab client stays unloaded for AWS runs

    return LabDriver(target)


def _aws(target: Target) -> Driver:
    from aftershock.faults.aws_driver import AwsDriver  # boto3 and kubernetes load only for AWS runs

    driver: Driver = AwsDriver(target)
    return driver


DRIVERS: dict[str, DriverFactory] = {"lab": _lab, "aws": _aws}


def driver_for(target: Target) -> Driver:
    """The driver for ``target.kind``, chosen once. The caller closes it (:meth:`Driver.close`)."""
    factory = DRIVERS.get(target.kind)
    if factory is None:
        raise TargetError(f"target {target.name!r} has kind {target.kind!r}, which no driver serves: "
                          f"use one of {', '.join(sorted(DRIVERS))}", target=target.name)
    return factory(target)
