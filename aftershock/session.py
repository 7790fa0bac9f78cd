"""Everything that runs *around* an experiment: load, the RPO ledger and the sampler.

Started by the aftershock control before the steady-state hypothesis, stopped after the rollbacks. The
session takes its settings from the run's plan (``run.json``: the target snapshot and the load settings) and
talks to the rest only through the run folder.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import asdict
from typing import Any

from aftershock.console import stderr
from aftershock.core.errors import HarnessError, UsageError
from aftershock.core.kinds import MarkerKind
from aftershock.core.loadworkers import read_worker_events
from aftershock.core.plan import LoadSettings, RunPlan
from aftershock.core.runfolder import RunFolder
from aftershock.core.target import Target
from aftershock.core.timeline.store import read_timeline
from aftershock.faults.driver import Driver
from aftershock.faults.registry import driver_for
from aftershock.load.launcher import check_reachable
from aftershock.load.planned import planned_load
from aftershock.load.session import LoadSession, log_tail
from aftershock.sampler import Sampler


class RunSession:
    """Load + ledger + sampler of one run. :meth:`stop` is idempotent and always safe to call."""

    def __init__(self, run: RunFolder, target: Target, driver: Driver, settings: LoadSettings, *,
                 slow_ms: float = 1000.0) -> None:
        self.run = run
        self.slow_ms = slow_ms
        self.target = target
        self.driver = driver
        self.settings = settings
        self.load: LoadSession | None = None
        self.extra_loads: list[LoadSession] = []  # e.g. a load spike started by an action
        self.sampler: Sampler | None = None
        self.ledger: Any = None
        self.store_ledgers: list[Any] = []
        self.stopped = False
        self.plan: RunPlan | None = None
        """The run's plan: the load's locustfile and the target's probe and HTTP settings come from it."""

    @classmethod
    def begin(cls, run: RunFolder, plan: RunPlan) -> RunSession:
        """Start everything around the experiment of ``run``, as its plan says."""
        target = plan.snapshot
        session = cls(run, target, driver_for(target, run=run), plan.load, slow_ms=plan.slow_ms)
        session.plan = plan
        try:
            session.start()
        except BaseException:
            session.stop()
            raise
        return session

    def start(self) -> None:
        check_reachable(self.target.front_door.url, flag="target front door", resolver=self.target.load.resolver)
        self.sampler = Sampler(self.driver, self.run, on_write_failure=lambda failure: interrupt_run(self.run, failure))
        self.sampler.start()
        if self.settings.ledger and self.target.database is not None:
            from aftershock.probes.ledger.readback import LedgerWriter

            self.ledger = LedgerWriter(self.driver.writer_conninfo(), self.run.path, run_id=self.run.path.name,
                                       rate_per_s=self.settings.ledger_rate)
            self.ledger.start()
            self.run.mark(MarkerKind.LEDGER_STARTED, rate_per_s=self.settings.ledger_rate)
        if self.settings.store_ledgers:  # DynamoDB items / S3 objects, read back from the surviving region
            from aftershock.probes.ledger.store_activities import start_store_ledgers

            self.store_ledgers = start_store_ledgers(self.run, self.target, self.settings.store_ledgers,
                                                     self.settings.store_ledger_rate)
        plan = self.plan or RunPlan(experiment="", scenario="", target=self.target.name, snapshot=self.target,
                                    load=self.settings)
        config = planned_load(plan, self.run.path, slow_ms=self.slow_ms)
        self.load = LoadSession.start(config)
        remote = config.remote_workers
        command = self.load.worker_command(_worker_host(config.master_bind_host)) if remote else None
        self.run.mark(MarkerKind.LOAD_STARTED, users=config.users, shape=config.shape, workers=config.workers,
                      locustfile=str(config.locustfile or "built-in shop journeys"), remote_workers=remote,
                      worker_command=command)
        if command:
            stderr().print(f"waiting up to {config.startup_grace_s:g} s for {remote} remote Locust worker(s); on "
                           f"each worker host run: {command}", highlight=False, soft_wrap=True)
        self._wait_for_traffic(30.0 + (config.startup_grace_s if remote else 0.0), command)

    def _wait_for_traffic(self, timeout_s: float = 30.0, worker_command: str | None = None) -> None:
        """Return once the timeline shows traffic for ``warmup_s``: the hypothesis needs something to judge."""
        deadline = time.monotonic() + timeout_s
        first: float | None = None
        while time.monotonic() < deadline:
            if self.load is not None and not self.load.running:
                tail = log_tail(self.run.path / "logs" / "locust.log")
                if worker_command and "Gave up waiting for workers" in log_tail(self.run.path / "logs" / "locust.log",
                                                                                 50):
                    message = (f"{self.settings.remote_workers} remote Locust worker(s) did not connect within "
                               f"{self.settings.worker_grace_s:g} s: on each worker host run `{worker_command}` "
                               "(or lower --remote-workers)")
                    self.run.mark(MarkerKind.LOAD_WORKERS_MISSING, message=message)
                    raise UsageError(message, target=self.target.name)
                raise HarnessError(f"the load generator exited early (code {self.load.procs[0].returncode}): {tail}")
            try:
                timeline = read_timeline(self.run.path)
            except FileNotFoundError:
                timeline = None
            if timeline is not None and timeline.total:
                first = first or time.monotonic()
                if time.monotonic() - first >= self.settings.warmup_s:
                    self.run.mark(MarkerKind.LOAD_WARM, requests=timeline.total)
                    self._soak()
                    return
            time.sleep(0.2)
        raise HarnessError(f"no traffic reached the timeline within {timeout_s:.0f} s: see "
                           f"{self.run.path / 'logs' / 'locust.log'}")

    def _soak(self) -> None:
        """Keep the load and the ledger going for ``soak_s`` before the hypothesis (no timeline reads: a soak
        of hours must cost nothing here); a load generator that dies meanwhile ends the run before any fault."""
        if self.settings.soak_s <= 0:
            return
        stderr().print(f"soaking: load and ledger run {self.settings.soak_s:g} s before the hypothesis and the "
                       "faults", highlight=False)
        ends = time.monotonic() + self.settings.soak_s
        while (left := ends - time.monotonic()) > 0:
            if self.load is not None and not self.load.running:
                tail = log_tail(self.run.path / "logs" / "locust.log")
                raise HarnessError(f"the load generator exited during the soak (code "
                                   f"{self.load.procs[0].returncode}), before any fault: {tail}")
            time.sleep(min(1.0, left))
        self.run.mark(MarkerKind.LOAD_SOAKED, soak_s=self.settings.soak_s)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for extra in self.extra_loads:
            extra.stop()
        if self.load is not None:
            code = self.load.stop()
            self.run.mark(MarkerKind.LOAD_STOPPED, exit_code=code)
            for event in read_worker_events(self.run.path):
                if event.event == "lost":
                    self.run.mark(MarkerKind.LOAD_WORKER_LOST, worker=event.worker, at=event.ts, state=event.state)
        if self.store_ledgers:  # read back (unless a probe did) and clean up the ledgers' items and objects
            from aftershock.probes.ledger.store_activities import stop_store_ledgers

            for problem in stop_store_ledgers(self.store_ledgers, self.run):
                stderr().print(problem, highlight=False)
        if self.ledger is not None:
            stats = self.ledger.stop()
            self.run.mark(MarkerKind.LEDGER_STOPPED, **_plain(stats))
        if self.sampler is not None:
            self.sampler.sample_once()
            self.sampler.stop()
        self.driver.close()


def interrupt_run(run: RunFolder, failure: str) -> None:
    """``run``'s folder stopped taking writes: interrupt the experiment as SIGTERM does (its rollbacks revert the
    faults from the journal kept in memory, the post-processing stops the load, the run exits 2)."""
    run.mark(MarkerKind.RUN_INTERRUPTED, signal="SIGTERM", where=f"run folder unwritable: {failure}")
    os.kill(os.getpid(), signal.SIGTERM)


def _worker_host(bind_host: str) -> str:
    """The master's address for the worker command: the bound interface, unless it is every interface."""
    return "<this host>" if bind_host in ("", "*", "0.0.0.0") else bind_host


def _plain(value: Any) -> dict[str, Any]:
    from dataclasses import is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in asdict(value).items() if isinstance(v, int | float | str | None)}
    return {}
