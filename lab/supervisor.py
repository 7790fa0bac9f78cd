"""The lab supervisor: starts every part, runs the control API, and stops everything on SIGTERM.

Run by ``aftershock lab up`` as ``python -m aftershock.lab.supervisor --lab-dir DIR``. Every child it starts dies
with it
(parent-death signal), so a killed supervisor leaves no process behind.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import httpx

from aftershock.core.target import dump_target
from aftershock.lab.api import ControlApi
from aftershock.lab.config import LabSettings
from aftershock.lab.dns.settings import FRONT_DOORS, front_door_kind
from aftershock.lab.events import EventLog
from aftershock.lab.lab import Lab
from aftershock.lab.state import LabState, clear_state, write_state
from aftershock.lab.timings import load_timings, ready_timeout_s


def _front_door_serves(url: str, region: str) -> bool:
    """True once the front door answers from ``region`` (the dialed one), not merely from a fallback."""
    try:
        response = httpx.get(f"{url}/health", timeout=0.5)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.headers.get("x-region") == region


def run(lab_dir: Path, settings: LabSettings, ready_timeout_s: float = 45.0) -> int:
    lab_dir.mkdir(parents=True, exist_ok=True)
    (lab_dir / "events.jsonl").unlink(missing_ok=True)
    emit = EventLog(lab_dir / "events.jsonl")
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started = time.time()
    lab = Lab(lab_dir, settings, emit, password=secrets.token_urlsafe(18))
    api = ControlApi(lab)
    try:
        lab.write_secrets()
        lab.start()
        api.start()
        write_state(lab_dir, LabState(pid=_pid(), control_url=api.url, front_door_url=lab.front_door_url,
                                      started_at=started))
        dump_target(lab.target_description(api.url), lab_dir / "target.yaml")
        deadline = time.monotonic() + ready_timeout_s
        dialed = max(settings.dials, key=lambda r: settings.dials[r])
        # Settled, not merely answering once: right after start Envoy's routing can lag its health checks by
        # about one GA check interval (a request then gets "no healthy upstream" or lands in the other region).
        settle_s = 2 * settings.ga_health.interval_s
        good_since: float | None = None
        while good_since is None or time.monotonic() - good_since < settle_s:
            if stopping.is_set() or time.monotonic() > deadline:
                raise TimeoutError(f"front door {lab.front_door_url} did not serve within {ready_timeout_s:.0f} s")
            serving = _front_door_serves(lab.front_door_url, dialed)
            good_since = (good_since or time.monotonic()) if serving else None
            time.sleep(0.05)
        ready = time.time()
        emit("lab.ready", startup_s=round(ready - started, 3), front_door=lab.front_door_url)
        write_state(lab_dir, LabState(pid=_pid(), control_url=api.url, front_door_url=lab.front_door_url,
                                      started_at=started, ready_at=ready))
        print(f"lab ready in {ready - started:.2f} s: front door {lab.front_door_url}, control {api.url}", flush=True)
        while not stopping.wait(0.5):
            pass
        return 0
    except Exception as exc:
        traceback.print_exc()
        print(f"lab failed: {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        emit("lab.stopping")
        api.stop()
        lab.stop()
        clear_state(lab_dir)
        (lab_dir / "target.yaml").unlink(missing_ok=True)
        (lab_dir / "secrets.json").unlink(missing_ok=True)
        emit("lab.stopped")


def _pid() -> int:
    import os

    return os.getpid()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftershock.lab.supervisor", description=__doc__)
    parser.add_argument("--lab-dir", type=Path, required=True)
    parser.add_argument("--front-door", choices=FRONT_DOORS, default="global-accelerator")
    parser.add_argument("--timings", default="fast", help="fast, aws or a target file (lab/timings.py)")
    args = parser.parse_args(argv)
    settings = load_timings(args.timings).apply(LabSettings(front_door=front_door_kind(args.front_door)))
    return run(args.lab_dir, settings, ready_timeout_s=ready_timeout_s(settings))


if __name__ == "__main__":
    sys.exit(main())
