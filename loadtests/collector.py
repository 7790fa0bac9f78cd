"""Python's cyclic garbage collector tuned for a load generator (what Locust's own CPU per request pays most for).

Measured with ``benchmarks/load_throughput.py`` (2 cores, one Locust process pinned to a core, closed loop): the
default thresholds (700, 10, 10) cost the built-in journeys ~8 % of their CPU per request and a bare
``FastHttpUser`` ~9 %: every few hundred container objects a collection runs, and the older generations walk every
module, class and stats object loaded at start-up. :func:`tune_collector` runs once per Locust process, when it is
initialised: what exists then (imports, the runner, the user classes) is moved out of the collector's reach with
``gc.freeze()`` (it lives as long as the process anyway), and the youngest generation is collected 7x less often.
Cycles made during the run are still collected; memory stays flat (``benchmarks/soak.py``).
"""

from __future__ import annotations

import gc

THRESHOLDS = (5000, 10, 10)


def tune_collector() -> None:
    """Collect once, freeze what survives (start-up objects), and raise the youngest generation's threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


__all__ = ["THRESHOLDS", "tune_collector"]
