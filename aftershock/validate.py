"""Static checks of an experiment before anything runs: every error names the file, the step and the fix.

Beyond Chaos Toolkit's own validation: the aftershock control must be declared, every python activity must
exist, and its arguments must match the function's signature (unknown or missing arguments), so that no fault
is injected by a run that would fail half-way through.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aftershock.core.errors import UsageError
from aftershock.core.kinds import FaultRole
from aftershock.objectives import DISRUPTIONS

IMPLICIT = {"configuration", "secrets"}


def load_experiment_file(path: Path) -> dict[str, Any]:
    """Load and validate an experiment file (YAML or JSON) with Chaos Toolkit, then with our own checks."""
    if not path.exists():
        raise UsageError(f"experiment file {str(path)!r} does not exist: pass a file from experiments/")
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    try:
        experiment: dict[str, Any] = load_experiment(str(path))
    except Exception as exc:
        raise UsageError(f"{path}: cannot be loaded ({_one_line(exc)}); fix the YAML/JSON syntax") from exc
    if not isinstance(experiment, dict):
        raise UsageError(f"{path}: an experiment must be a mapping; see experiments/az-outage.yaml")
    check_shape(experiment, path)
    check_experiment(experiment, path)  # first: its messages name the step and the valid arguments
    try:
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise UsageError(f"{path}: invalid experiment: {_one_line(exc)}") from exc
    except Exception as exc:  # chaoslib trips over some malformed values itself (TypeError, KeyError, ...)
        raise UsageError(f"{path}: invalid experiment ({_one_line(exc)}); compare it with "
                         "experiments/az-outage.yaml") from exc
    return experiment


_MAPPING_PARTS = ("configuration", "secrets", "steady-state-hypothesis", "contributions")
_LIST_PARTS = ("controls", "method", "rollbacks", "tags")


def check_shape(experiment: Mapping[str, Any], path: Path) -> None:
    """The parts aftershock and Chaos Toolkit read have the right types (a mapping, a list of mappings, ...)."""
    def bad(where: str, expected: str, value: object) -> UsageError:
        return UsageError(f"{path}: {where} must be {expected}, not {type(value).__name__}; see "
                          "experiments/az-outage.yaml", path=str(path))

    for key in _MAPPING_PARTS:
        if experiment.get(key) is not None and not isinstance(experiment[key], Mapping):
            raise bad(key, "a mapping", experiment[key])
    for key in _LIST_PARTS:
        if experiment.get(key) is not None and not isinstance(experiment[key], list):
            raise bad(key, "a list", experiment[key])
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    if hypothesis.get("probes") is not None and not isinstance(hypothesis["probes"], list):
        raise bad("steady-state-hypothesis.probes", "a list", hypothesis["probes"])
    for i, control in enumerate(experiment.get("controls") or []):
        if not isinstance(control, Mapping):
            raise bad(f"controls[{i}]", "a mapping", control)
        if control.get("provider") is not None and not isinstance(control["provider"], Mapping):
            raise bad(f"controls[{i}].provider", "a mapping", control["provider"])
    for where, activity in activities(experiment):
        if not isinstance(activity, Mapping):
            raise bad(where, "a mapping (an activity)", activity)
        provider = activity.get("provider")
        if provider is not None and not isinstance(provider, Mapping):
            raise bad(f"{where}.provider", "a mapping", provider)
        arguments = (provider or {}).get("arguments")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise bad(f"{where}.provider.arguments", "a mapping", arguments)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def activities(experiment: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(where, activity)`` for every activity: hypothesis probes, method steps and rollbacks."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for i, probe in enumerate(hypothesis.get("probes") or []):
        yield f"steady-state-hypothesis.probes[{i}]", probe
    for i, step in enumerate(experiment.get("method") or []):
        yield f"method[{i}]", step
    for i, step in enumerate(experiment.get("rollbacks") or []):
        yield f"rollbacks[{i}]", step


def check_experiment(experiment: Mapping[str, Any], path: Path) -> None:
    controls = experiment.get("controls") or []
    if not any((c.get("provider") or {}).get("module") == "aftershock.control" for c in controls):
        raise UsageError(f"{path}: controls must declare the aftershock control "
                         "({name: aftershock, provider: {type: python, module: aftershock.control}})")
    config = experiment.get("configuration") or {}
    disruption = config.get("aftershock_disruption", "application")
    if disruption not in DISRUPTIONS:
        raise UsageError(f"{path}: configuration.aftershock_disruption {disruption!r} is unknown: use one of "
                         f"{', '.join(DISRUPTIONS)}")
    judged = config.get("aftershock_judge")
    if judged is not None:
        from aftershock.objectives import KNOWN

        names = [n.strip() for n in str(judged).split(",") if n.strip()]
        unknown = [n for n in names if n not in KNOWN]
        if unknown or not names:
            raise UsageError(f"{path}: configuration.aftershock_judge names unknown objective(s) "
                             f"{', '.join(unknown) or '(none)'}: use some of {', '.join(sorted(KNOWN))}")
    for where, activity in activities(experiment):
        _check_activity(path, where, activity)


def _check_activity(path: Path, where: str, activity: Mapping[str, Any]) -> None:
    if "ref" in activity:
        return
    provider = activity.get("provider") or {}
    label = f"{path}: {where} {activity.get('name')!r}"
    context = {"step": f"{where} {activity.get('name')!r}", "path": str(path)}
    role = activity.get("aftershock_role")
    if role is not None and (role not in tuple(FaultRole) or activity.get("type") != "action"
                             or not where.startswith("method")):
        raise UsageError(f"{label}: aftershock_role {role!r} is not allowed here: only a method action may declare "
                         f"it, as one of {', '.join(FaultRole)}", **context)
    if provider.get("type") != "python":
        return
    module_name, func_name = provider.get("module"), provider.get("func")
    try:
        module = importlib.import_module(str(module_name))
    except ImportError as exc:
        raise UsageError(f"{label}: module {module_name!r} cannot be imported ({exc}); fix provider.module",
                         **context) from exc
    func = getattr(module, str(func_name), None)
    if not callable(func):
        raise UsageError(f"{label}: {module_name} has no function {func_name!r}; fix provider.func", **context)
    params = inspect.signature(func).parameters
    accepted = [n for n, p in params.items() if n not in IMPLICIT and p.kind is not p.VAR_KEYWORD]
    given = dict(provider.get("arguments") or {})
    for name in given:
        if name not in accepted:
            raise UsageError(f"{label}: {module_name}.{func_name}() has no argument {name!r}; use one of: "
                             f"{', '.join(accepted) or '(none)'}", **context)
    for name, param in params.items():
        if name in IMPLICIT or param.default is not inspect.Parameter.empty:
            continue
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if name not in given:
            raise UsageError(f"{label}: {module_name}.{func_name}() needs argument {name!r}; add it to "
                             "provider.arguments", **context)
