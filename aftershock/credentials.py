"""Passwords named by a target (``database.password_from``), shared by the lab and AWS resolvers."""

from __future__ import annotations

import os

from aftershock.errors import TargetError
from aftershock.target import Target


def password_from_env(target: Target, variable: str) -> str:
    """The password in environment variable ``variable``; a clear error naming it when unset (never the value)."""
    value = os.environ.get(variable)
    if not value:
        raise TargetError(f"environment variable {variable} (database.password_from of target {target.name!r}) "
                          f"is not set: export {variable} with the database password")
    return value
