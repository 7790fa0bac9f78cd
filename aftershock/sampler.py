"""Periodic observations of the target (replicas, writer location, replication lag) into ``samples.jsonl``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from aftershock.core.runfolder import RunFolder
from aftershock.core.samples import Sample, append_sample
from aftershock.faults.driver import Driver, Observation


def sample_of(observation: Observation) -> Sample:
    """The run-folder record of one observation of the target."""
    return Sample(
        ts=observation.ts, writer=observation.writer, writer_region=observation.writer_region,
        replicas=tuple(sorted((r.region, r.desired, r.ready) for r in observation.replicas)),
        lag_s=tuple(sorted(observation.replication_lag_s.items())),
        lag_bytes=tuple(sorted((k, None if v is None else float(v))
                               for k, v in observation.replication_lag_bytes.items())),
        azs_down=observation.azs_down, dials=tuple(sorted(observation.dials.items())), healthy=observation.healthy,
        dns=observation.dns, alb_target_states=tuple(sorted((lb, tuple(sorted(states.items())))
                                                            for lb, states in observation.alb_target_states.items())),
        endpoints_healthy=tuple(sorted(observation.endpoints_healthy.items())))


class Sampler:
    """Observes the target every ``interval_s`` on a thread; a failed observation is recorded, not hidden.

    It also watches the run folder: the first time the folder stops taking writes (``run.write_failure``) it calls
    ``on_write_failure`` (the session stops the run)."""

    def __init__(self, driver: Driver, run: RunFolder, interval_s: float = 0.5, *,
                 on_write_failure: Callable[[str], None] | None = None) -> None:
        self._driver = driver
        self._run = run
        self._interval = interval_s
        self._on_write_failure = on_write_failure
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aftershock-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def sample_once(self) -> None:
        try:
            observation = self._driver.observe()
        except Exception as exc:  # the target may be mid-fault; record it and keep sampling
            append_sample(self._run, Sample(ts=time.time(), error=f"{type(exc).__name__}: {exc}"))
            return
        append_sample(self._run, sample_of(observation))

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.sample_once()
            failure = self._run.write_failure
            if failure is not None and self._on_write_failure is not None:
                callback, self._on_write_failure = self._on_write_failure, None
                callback(failure)
            self._stopping.wait(self._interval)
