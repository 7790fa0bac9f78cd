"""What a Chaos Toolkit activity needs, resolved from the experiment configuration.

Experiments declare (so plain ``chaos run`` works too)::

    configuration:
      aftershock_target: {type: env, key: AFTERSHOCK_TARGET, default: lab}
      aftershock_run_dir: {type: env, key: AFTERSHOCK_RUN_DIR, default: ""}

``aftershock run`` sets both variables; under plain ``chaos run`` the aftershock control creates the run
folder and sets ``AFTERSHOCK_RUN_DIR`` before any activity runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aftershock.core.errors import HarnessError
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.core.target import Target, load_target
from aftershock.faults.driver import Driver
from aftershock.faults.registry import driver_for

TARGET_ENV = "AFTERSHOCK_TARGET"


def config_str(configuration: Mapping[str, Any] | None, key: str) -> str:
    """A resolved string setting; an unresolved ``{type: env, ...}`` mapping (raw experiment) counts as unset."""
    value = (configuration or {}).get(key)
    return value if isinstance(value, str) else ""


def target_ref(configuration: Mapping[str, Any] | None) -> str:
    return config_str(configuration, "aftershock_target") or os.environ.get(TARGET_ENV) or "lab"


def run_folder(configuration: Mapping[str, Any] | None) -> RunFolder:
    path = config_str(configuration, "aftershock_run_dir") or os.environ.get(RUN_DIR_ENV)
    if not path:
        raise HarnessError("no run folder: declare the aftershock control in the experiment's controls, "
                           "or run it with `aftershock run`")
    return RunFolder(Path(str(path)))


@dataclass(frozen=True)
class ActivityContext:
    target: Target
    driver: Driver
    run: RunFolder

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> ActivityContext:
        target = load_target(target_ref(configuration))
        return cls(target=target, driver=driver_for(target), run=run_folder(configuration))
