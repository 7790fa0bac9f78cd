"""Per-step objective overrides: a copy of the experiment with ``configuration.aftershock_objectives`` merged.

Example::

    path = with_objectives(Path("experiments/az-outage.yaml"), {"rto_s": 20}, folder / "experiments")
    # folder/experiments/az-outage.yaml: aftershock_objectives {rto_s: 20}, judged as before
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from aftershock.core.errors import UsageError


def with_objectives(source: Path, overrides: Mapping[str, float], folder: Path, *, name: str | None = None) -> Path:
    """Write ``source`` with ``overrides`` merged into its objectives to ``folder/<name or source name>``.

    Bare objective names that the experiment does not judge yet (``aftershock_judge``) are added to it, so an
    override is always judged.
    """
    try:
        experiment: Any = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{source}: cannot be read to apply objective overrides ({exc}); fix the file") from None
    if not isinstance(experiment, dict):
        raise UsageError(f"{source}: an experiment must be a mapping; see experiments/az-outage.yaml")
    config = dict(experiment.get("configuration") or {})
    objectives = dict(config.get("aftershock_objectives") or {})
    objectives.update(overrides)
    config["aftershock_objectives"] = objectives
    judged = [n.strip() for n in str(config.get("aftershock_judge") or "").split(",") if n.strip()]
    if judged:
        judged += [key for key in overrides if "." not in key and key not in judged]
        config["aftershock_judge"] = ",".join(judged)
    experiment["configuration"] = config
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    target.write_text(yaml.safe_dump(experiment, sort_keys=False), encoding="utf-8")
    return target
