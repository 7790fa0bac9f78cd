"""Running one pod under uvicorn, with Kubernetes-style graceful termination.

On SIGTERM (or SIGINT) the pod first reports unready while still serving, so the load balancer can take
it out of rotation; after the drain period uvicorn stops accepting, finishes in-flight requests and the
process exits 0. A second signal stops at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType

import uvicorn


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first termination signal starts a drain instead of an immediate stop."""

    def __init__(self, config: uvicorn.Config, *, drain_s: float, on_drain: Callable[[], None]) -> None:
        super().__init__(config)
        self._drain_s = drain_s
        self._on_drain = on_drain
        self._drain_until: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Deliberately not recording the signal: uvicorn would re-raise it after shutdown and the process
        # would die by SIGTERM instead of exiting 0.
        if self._drain_until is None and not self.should_exit:
            self._on_drain()
            self._drain_until = time.monotonic() + self._drain_s
            return
        self.should_exit = True
        if sig == signal.SIGINT:
            self.force_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self._drain_until is not None and time.monotonic() >= self._drain_until:
            self.should_exit = True
        return await super().on_tick(counter)


def uvicorn_config(app: object, host: str, port: int) -> uvicorn.Config:
    """Fast and quiet: uvloop, httptools, no access log, short graceful-shutdown bound."""
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=5,
        backlog=1024,
    )
