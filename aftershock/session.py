"""Everything that runs *around* an experiment: load, the RPO ledger and the sampler.

Started by the aftershock control before the steady-state hypothesis, stopped after the rollbacks. The
session reads its settings from the experiment configuration (env-overridable, so ``aftershock run --users``
and plain ``chaos run`` both work) and talks to the rest only through the run folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aftershock.core.errors import HarnessError, UsageError
from aftershock.core.runfolder import RUN_DIR_ENV, RunFolder
from aftershock.core.target import Target, load_target
from aftershock.core.timeline.store import read_timeline
from aftershock.faults.context import TARGET_ENV, config_str, target_ref
from aftershock.faults.driver import Driver
from aftershock.faults.registry import driver_for
from aftershock.load.launcher import LoadConfig, check_reachable
from aftershock.load.session import LoadSession, log_tail
from aftershock.sampler import Sampler

# configuration key -> environment variable that overrides it (set by `aftershock run`)
ENV_OVERRIDES = {
    "aftershock_users": "AFTERSHOCK_USERS",
    "aftershock_spawn_rate": "AFTERSHOCK_SPAWN_RATE",
    "aftershock_shape": "AFTERSHOCK_SHAPE",
    "aftershock_load_duration_s": "AFTERSHOCK_LOAD_DURATION_S",
    "aftershock_workers": "AFTERSHOCK_WORKERS",
    "aftershock_ledger": "AFTERSHOCK_LEDGER",
    "aftershock_ledger_rate": "AFTERSHOCK_LEDGER_RATE",
}


def setting(configuration: Mapping[str, Any] | None, key: str, default: Any) -> Any:
    """A session setting: environment override, else experiment configuration, else ``default``."""
    env = os.environ.get(ENV_OVERRIDES.get(key, ""), "")
    if env:
        return env
    value = (configuration or {}).get(key)
    return default if value in (None, "") else value


def _bool(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, kw_only=True)
class SessionSettings:
    users: int = 20
    spawn_rate: float | None = None
    shape: str = "steady"
    load_duration_s: float = 600.0
    """Upper bound of the load run; the session stops it earlier, after the rollbacks."""
    workers: int = 0
    ledger: bool = True
    ledger_rate: float = 25.0
    warmup_s: float = 2.0

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any] | None) -> SessionSettings:
        try:
            rate = setting(configuration, "aftershock_spawn_rate", None)
            return cls(
                users=int(setting(configuration, "aftershock_users", 20)),
                spawn_rate=float(rate) if rate is not None else None,
                shape=str(setting(configuration, "aftershock_shape", "steady")),
                load_duration_s=float(setting(configuration, "aftershock_load_duration_s", 600)),
                workers=int(setting(configuration, "aftershock_workers", 0)),
                ledger=_bool(setting(configuration, "aftershock_ledger", True)),
                ledger_rate=float(setting(configuration, "aftershock_ledger_rate", 25.0)),
            )
        except ValueError as exc:
            raise UsageError(f"bad aftershock load setting in the experiment configuration: {exc}") from exc


class RunSession:
    """Load + ledger + sampler of one run. :meth:`stop` is idempotent and always safe to call."""

    def __init__(self, run: RunFolder, target: Target, driver: Driver, settings: SessionSettings) -> None:
        self.run = run
        self.target = target
        self.driver = driver
        self.settings = settings
        self.load: LoadSession | None = None
        self.extra_loads: list[LoadSession] = []  # e.g. a load spike started by an action
        self.sampler: Sampler | None = None
        self.ledger: Any = None
        self.stopped = False

    @classmethod
    def begin(cls, configuration: Mapping[str, Any] | None, experiment: Mapping[str, Any] | None) -> RunSession:
        """Create (or adopt) the run folder and start everything around the experiment."""
        settings = SessionSettings.from_configuration(configuration)
        target = load_target(target_ref(configuration))
        path = config_str(configuration, "aftershock_run_dir") or os.environ.get(RUN_DIR_ENV)
        if path:
            run = RunFolder(Path(str(path)))
            run.path.mkdir(parents=True, exist_ok=True)
            (run.path / "logs").mkdir(exist_ok=True)
        else:  # plain `chaos run`: make our own folder and tell the activities where it is
            label = str((configuration or {}).get("aftershock_scenario") or "experiment")
            run = RunFolder.create(Path("runs"), label)
            os.environ[RUN_DIR_ENV] = str(run.path)
        os.environ.setdefault(TARGET_ENV, target_ref(configuration))
        if not run.file("run.json").exists():
            run.write_json("run.json", {"experiment": (experiment or {}).get("title"), "target": target.name,
                                        "started_at": time.time(), "settings": asdict(settings),
                                        "runner": "chaos run"})
        session = cls(run, target, driver_for(target), settings)
        try:
            session.start()
        except BaseException:
            session.stop()
            raise
        return session

    def start(self) -> None:
        check_reachable(self.target.front_door.url, flag="target front door")
        self.sampler = Sampler(self.driver, self.run)
        self.sampler.start()
        if self.settings.ledger and self.target.database is not None:
            from aftershock.probes.ledger.readback import LedgerWriter

            self.ledger = LedgerWriter(self.driver.writer_conninfo(), self.run.path, run_id=self.run.path.name,
                                       rate_per_s=self.settings.ledger_rate)
            self.ledger.start()
            self.run.mark("ledger.started", rate_per_s=self.settings.ledger_rate)
        config = LoadConfig(url=self.target.front_door.url, out_dir=self.run.path, users=self.settings.users,
                            spawn_rate=self.settings.spawn_rate, duration_s=self.settings.load_duration_s,
                            shape=self.settings.shape, workers=self.settings.workers)
        self.load = LoadSession.start(config)
        self.run.mark("load.started", users=config.users, shape=config.shape, workers=config.workers)
        self._wait_for_traffic()

    def _wait_for_traffic(self, timeout_s: float = 30.0) -> None:
        """Return once the timeline shows traffic for ``warmup_s``: the hypothesis needs something to judge."""
        deadline = time.monotonic() + timeout_s
        first: float | None = None
        while time.monotonic() < deadline:
            if self.load is not None and not self.load.running:
                tail = log_tail(self.run.path / "logs" / "locust.log")
                raise HarnessError(f"the load generator exited early (code {self.load.procs[0].returncode}): {tail}")
            try:
                timeline = read_timeline(self.run.path)
            except FileNotFoundError:
                timeline = None
            if timeline is not None and timeline.total:
                first = first or time.monotonic()
                if time.monotonic() - first >= self.settings.warmup_s:
                    self.run.mark("load.warm", requests=timeline.total)
                    return
            time.sleep(0.2)
        raise HarnessError(f"no traffic reached the timeline within {timeout_s:.0f} s: see "
                           f"{self.run.path / 'logs' / 'locust.log'}")

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for extra in self.extra_loads:
            extra.stop()
        if self.load is not None:
            code = self.load.stop()
            self.run.mark("load.stopped", exit_code=code)
        if self.ledger is not None:
            stats = self.ledger.stop()
            self.run.mark("ledger.stopped", **_plain(stats))
        if self.sampler is not None:
            self.sampler.sample_once()
            self.sampler.stop()


def _plain(value: Any) -> dict[str, Any]:
    from dataclasses import is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return {k: v for k, v in asdict(value).items() if isinstance(v, int | float | str | None)}
    return {}
