"""The one exception root of aftershock.

Tree::

    AftershockError                 every error we raise on purpose
    ├── UsageError                  bad input from a user: exit code 2, nothing changed
    │   ├── TargetError             a target description is missing or invalid
    │   └── FaultRefused            a fault cannot apply (unknown region/AZ, already down, ...)
    ├── LabError                    the embedded lab failed to start, stop or answer
    │   └── DatabaseError           a lab database operation failed
    └── HarnessError                the harness itself failed (exit code 2)

Messages name the culprit and the fix, in one line.
"""

from __future__ import annotations


class AftershockError(Exception):
    """Root of every error aftershock raises on purpose."""

    exit_code = 2


class UsageError(AftershockError):
    """Bad input: the user can fix it. Nothing was changed."""


class TargetError(UsageError):
    """A target description is missing or invalid."""


class FaultRefused(UsageError):
    """A fault was refused before anything was changed."""


class LabError(AftershockError):
    """The embedded lab failed to start, stop or answer."""


class DatabaseError(LabError):
    """A lab database operation failed."""


class HarnessError(AftershockError):
    """The harness itself failed."""
