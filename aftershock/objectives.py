"""Objectives: what a scenario must achieve, from a tier policy, overridden per target and per experiment.

Resolution order (later wins): the policy tier (``aftershock/data/policy.yaml``) -> the target's
``objectives`` (keys ``"<disruption>.<objective>"``, e.g. ``"az.rto_s": 90``) -> the experiment's
``aftershock_objectives`` configuration (same keys, or bare objective names for its own disruption).

Example::

    objectives = resolve_objectives(target, disruption="az", overrides={"rto_s": 20})
    objectives["rto_s"]  # 20.0
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from aftershock.core.errors import TargetError, UsageError
from aftershock.core.target import Target

Disruption = Literal["application", "infrastructure", "az", "region", "scaling"]
DISRUPTIONS: tuple[str, ...] = ("application", "infrastructure", "az", "region", "scaling")
# objectives where a smaller measured figure is better (all of ours)
KNOWN = {"rto_s", "rpo_s", "first_scale_s", "ready_capacity_s", "latency_slo_s", "lost_writes",
         # per store (the store ledgers): RPO and lost items / objects
         "dynamodb_rpo_s", "dynamodb_lost", "s3_rpo_s", "s3_lost",
         # the identity ledger: users lost at the standby pool, sessions rejected after a region failover
         "identity_rpo_s", "identity_lost", "rejected_session_rate", "login_failure_rate"}


@cache
def policy() -> dict[str, dict[str, dict[str, float]]]:
    text = resources.files("aftershock").joinpath("data/policy.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, dict[str, float]]] = yaml.safe_load(text)["tiers"]
    return data


def tiers() -> tuple[str, ...]:
    return tuple(policy())


def resolve_objectives(target: Target, disruption: str, overrides: Mapping[str, Any] | None = None,
                       ) -> dict[str, float]:
    """The objectives of one disruption type for ``target``, with overrides applied."""
    if disruption not in DISRUPTIONS:
        raise UsageError(f"unknown disruption type {disruption!r}: use one of {', '.join(DISRUPTIONS)}")
    tier = policy().get(target.objectives_tier)
    if tier is None:
        raise TargetError(f"target {target.name!r}: unknown objectives_tier {target.objectives_tier!r}: "
                          f"use one of {', '.join(tiers())}")
    resolved = {k: float(v) for k, v in tier[disruption].items()}
    for source, values in (("target", target.objectives), ("experiment", overrides or {})):
        for key, value in values.items():
            scope, _, name = key.rpartition(".")
            if scope and scope not in DISRUPTIONS:
                raise UsageError(f"{source} objective {key!r}: unknown disruption {scope!r}; use one of "
                                 f"{', '.join(DISRUPTIONS)}")
            if name not in KNOWN:
                raise UsageError(f"{source} objective {key!r}: unknown objective {name!r}; use one of "
                                 f"{', '.join(sorted(KNOWN))}")
            if scope in ("", disruption):
                try:
                    resolved[name] = float(value)
                except (TypeError, ValueError):
                    raise UsageError(f"{source} objective {key!r}: {value!r} is not a number; give seconds "
                                     "(or writes) as a plain number") from None
    return resolved


