"""Periodic observations of the target (replicas, writer location, replication lag) into ``samples.jsonl``."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict

from aftershock.core.runfolder import RunFolder
from aftershock.faults.driver import Driver


class Sampler:
    """Observes the target every ``interval_s`` on a thread; a failed observation is recorded, not hidden."""

    def __init__(self, driver: Driver, run: RunFolder, interval_s: float = 0.5) -> None:
        self._driver = driver
        self._run = run
        self._interval = interval_s
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
            self._run.append("samples.jsonl", {"ts": time.time(), "error": f"{type(exc).__name__}: {exc}"})
            return
        record = asdict(observation)
        record["replicas"] = {r["region"]: {"desired": r["desired"], "ready": r["ready"]} for r in record["replicas"]}
        self._run.append("samples.jsonl", record)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.sample_once()
            self._stopping.wait(self._interval)
