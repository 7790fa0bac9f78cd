"""What a Chaos Toolkit activity needs, resolved from the run folder's plan (``run.json``).

Experiments declare (so plain ``chaos run`` works too)::

    configuration:
      aftershock_run_dir: {type: env, key: AFTERSHOCK_RUN_DIR, default: ""}

``aftershock run`` creates the run folder, writes the plan into it and sets ``AFTERSHOCK_RUN_DIR``; under plain
``chaos run`` the aftershock control does the same before any activity runs. Every setting (the target above
all) then comes from the plan: the target is the snapshot taken when the run started, never parsed again.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.plan import PLAN_FILE, RunPlan, read_plan
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.core.target import Target
from aftershock.faults.driver import Driver
from aftershock.faults.registry import driver_for


def config_str(configuration: Mapping[str, Any] | None, key: str) -> str:
    """A resolved string setting; an unresolved ``{type: env, ...}`` mapping (raw experiment) counts as unset."""
    value = (configuration or {}).get(key)
    return value if isinstance(value, str) else ""


def run_folder(configuration: Mapping[str, Any] | None) -> RunFolder:
    path = config_str(configuration, "aftershock_run_dir") or os.environ.get(RUN_DIR_ENV)
    if not path:
        raise HarnessError("no run folder: declare the aftershock control in the experiment's controls, "
                           "or run it with `aftershock run`")
    return RunFolder(Path(str(path)))


@dataclass(frozen=True)
class ActivityContext:
    """The target, its driver and the run folder of one activity; closes the driver on exit::

        with ActivityContext.from_configuration(configuration) as ctx:
            ctx.driver.observe()
    """

    target: Target
    driver: Driver
    run: RunFolder

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> ActivityContext:
        return cls.for_run(run_folder(configuration))

    @classmethod
    def for_run(cls, run: RunFolder) -> ActivityContext:
        """The context of ``run``: the target from its plan (read once per run folder), a driver for it."""
        plan = plan_of(run)
        return cls(target=plan.snapshot, driver=driver_for(plan.snapshot, run=run, dry_run=plan.dry_run), run=run)

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> ActivityContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plan_of(run: RunFolder) -> RunPlan:
    """The plan of ``run``, read and validated once per version of its ``run.json`` (activities call this
    many times a run)."""
    path = run.file(PLAN_FILE)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return read_plan(run)  # raises the error that names the file and the fix
    return _cached_plan(str(run.path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _cached_plan(path: str, mtime_ns: int, size: int) -> RunPlan:
    return read_plan(RunFolder(Path(path)))
