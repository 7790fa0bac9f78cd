"""The one exception root of aftershock.

Tree::

    AftershockError                 every error we raise on purpose
    ├── UsageError                  bad input from a user: exit code 2, nothing changed
    │   ├── TargetError             a target description is missing or invalid
    │   ├── TargetLocked            another run holds the target (one run per target at a time)
    │   └── FaultRefused            a fault cannot apply (unknown region/AZ, already down, ...)
    ├── LabError                    the embedded lab failed to start, stop or answer
    │   └── DatabaseError           a lab database operation failed
    └── HarnessError                the harness itself failed (exit code 2)
        ├── FormatError             a run-folder file is not in the format aftershock writes
        └── RunFolderUnwritable     the run folder stopped taking writes (full disk, read-only)

Messages name the culprit and the fix, in one line. Context travels as attributes besides the message:
``target`` (the target's name), ``fault`` (the fault action), ``step`` (the experiment step), ``path`` (the file).

Example::

    raise FaultRefused("AZ 'us-east-9z' is not in region us-east-1: use one of ...", target="lab",
                       fault="az_outage")
"""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, so a message stays one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


class AftershockError(Exception):
    """Root of every error aftershock raises on purpose."""

    exit_code = 2
    multiline = False
    """Only a report of several findings (a failed experiment as a test failure) keeps its line breaks."""

    def __init__(self, message: str, *, target: str | None = None, fault: str | None = None,
                 step: str | None = None, path: str | None = None) -> None:
        # one line whatever the input: a user's key or value may hold newlines or other control characters
        message = message if self.multiline else one_line(message)
        super().__init__(message)
        self.message = message
        self.target = target
        self.fault = fault
        self.step = step
        self.path = path

    def with_context(self, *, target: str | None = None, fault: str | None = None,
                     step: str | None = None) -> AftershockError:
        """Fill in context the raiser did not know (the first value set wins); returns ``self`` to re-raise."""
        self.target = self.target or target
        self.fault = self.fault or fault
        self.step = self.step or step
        return self

    @property
    def context(self) -> dict[str, str]:
        """The context attributes that are set."""
        values = {"target": self.target, "fault": self.fault, "step": self.step, "path": self.path}
        return {k: v for k, v in values.items() if v}


class UsageError(AftershockError):
    """Bad input: the user can fix it. Nothing was changed."""


class TargetError(UsageError):
    """A target description is missing or invalid."""


class TargetLocked(UsageError):
    """Another run holds the target's lock; ``holder`` describes it (run id, host, pid, start time)."""

    def __init__(self, message: str, *, holder: str | None = None, target: str | None = None,
                 path: str | None = None) -> None:
        super().__init__(message, target=target, path=path)
        self.holder = holder


class FaultRefused(UsageError):
    """A fault was refused before anything was changed."""


class LabError(AftershockError):
    """The embedded lab failed to start, stop or answer."""


class DatabaseError(LabError):
    """A lab database operation failed."""


class HarnessError(AftershockError):
    """The harness itself failed."""


class FormatError(HarnessError):
    """A run-folder file (timeline, ledger, journal) is not in the format aftershock writes."""


class RunFolderUnwritable(HarnessError):
    """The run folder stopped taking writes mid-run (a full disk, a read-only mount): the run stops its load and
    reverts every fault from the journal it keeps in memory, then exits 2 with this error."""
