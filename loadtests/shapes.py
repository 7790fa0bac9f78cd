"""Load shapes: steady, step and spike, all sized by ``-u`` (peak users), ``-r`` and ``-t``.

The pure functions below give ``(users, spawn_rate)`` at a time ``t`` into the run; :class:`AftershockShape`
(the only shape class the locustfile exposes) picks one by ``--shape`` and stops the run after ``-t``.

* steady: ``users`` from the start.
* step: four equal steps up to ``users``, one per quarter of the run (10 s steps without ``-t``).
* spike: a fifth of ``users`` (at least 1), ``users`` during the middle fifth of the run
  (seconds 10-20 without ``-t``), spawned at 10x the spawn rate, then back.
"""

from __future__ import annotations

from collections.abc import Callable

from locust import LoadTestShape

Plan = Callable[[float, int, float, float | None], tuple[int, float]]

STEPS = 4
UNBOUNDED_STEP_S = 10.0


def steady(t: float, users: int, rate: float, duration: float | None) -> tuple[int, float]:
    return users, rate


def step(t: float, users: int, rate: float, duration: float | None) -> tuple[int, float]:
    period = duration / STEPS if duration else UNBOUNDED_STEP_S
    level = min(STEPS, int(t // period) + 1)
    return max(1, round(users * level / STEPS)), rate


def spike(t: float, users: int, rate: float, duration: float | None) -> tuple[int, float]:
    begin, end = (duration * 0.4, duration * 0.6) if duration else (10.0, 20.0)
    base = max(1, users // 5)
    if begin <= t < end:
        return users, rate * 10
    return base, rate * 10 if t >= end else rate


SHAPES: dict[str, Plan] = {"steady": steady, "step": step, "spike": spike}


class AftershockShape(LoadTestShape):
    """Runs the ``--shape`` plan; ``-u``/``-r``/``-t`` size it (``use_common_options``)."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        users = int(getattr(options, "num_users", None) or 1)
        rate = float(getattr(options, "spawn_rate", None) or users)
        duration = getattr(options, "run_time", None)
        t = self.get_run_time()
        if duration and t >= duration:
            return None
        plan = SHAPES[getattr(options, "shape", None) or "steady"]
        return plan(t, users, rate, float(duration) if duration else None)
