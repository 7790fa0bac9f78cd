"""Shared live channels: one producer per watched thing (a run, the game day), however many browsers watch.

A :class:`Channel` calls its producer (in a worker thread) every ``interval_s`` while at least one stream is
subscribed, keeps the current panels and, per panel, the version it last changed in. A stream first gets every
panel, then only the panels that changed since the version it saw; the usual message (one version to the next)
is encoded once and shared by every stream. :class:`Hub` keeps one :class:`~aftershock.serve.live.LiveRun` per
run folder, so every channel that shows a run reads it through the same followers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aftershock.core.errors import AftershockError
from aftershock.serve.live import LiveRun

Producer = Callable[[], dict[str, str]]
HEARTBEAT_S = 15.0


def sse(panels: dict[str, str]) -> bytes:
    """One server-sent event carrying ``panels``."""
    return b"event: panels\ndata: " + json.dumps(panels, separators=(",", ":")).encode() + b"\n\n"


class Channel:
    """The panels of one view, refreshed while watched."""

    def __init__(self, produce: Producer, *, interval_s: float, redact: Callable[[str], str]) -> None:
        self.produce = produce
        self.interval_s = interval_s
        self.redact = redact
        self.panels: dict[str, str] = {}
        self.changed: dict[str, int] = {}
        self.version = 0
        self.subscribers = 0
        self._delta = b""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._refreshing = asyncio.Lock()

    def _produce(self) -> dict[str, str]:
        try:
            return {key: self.redact(html) for key, html in self.produce().items()}
        except (AftershockError, OSError, ValueError) as exc:
            return {"status": f"<span class='bad'>cannot read this: {self.redact(str(exc))}</span>"}

    async def refresh(self) -> None:
        """Produce the panels now; wake the streams when something changed."""
        async with self._refreshing:
            panels = await asyncio.to_thread(self._produce)
            delta = {key: html for key, html in panels.items() if self.panels.get(key) != html}
            if not delta and self.version:
                return
            self.version += 1
            self.panels.update(delta)
            for key in delta:
                self.changed[key] = self.version
            self._delta = sse(delta)
            wake, self._wake = self._wake, asyncio.Event()
            wake.set()

    async def current(self) -> dict[str, str]:
        if not self.version:
            await self.refresh()
        return dict(self.panels)

    def message(self, seen: int) -> bytes:
        if seen == self.version - 1:
            return self._delta
        return sse({key: self.panels[key] for key, version in self.changed.items() if version > seen})

    async def _loop(self) -> None:
        while self.subscribers:
            await self.refresh()
            await asyncio.sleep(self.interval_s)
        self._task = None

    async def stream(self) -> AsyncIterator[bytes]:
        """The event stream of one browser: every panel, then the changes, until it goes away."""
        self.subscribers += 1
        if self._task is None:
            self._task = asyncio.create_task(self._loop())
        try:
            await self.current()
            seen = self.version
            yield b"retry: 1000\n" + sse(self.panels)
            while True:
                wake = self._wake
                if self.version == seen:
                    try:
                        await asyncio.wait_for(wake.wait(), HEARTBEAT_S)
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                version = self.version
                yield self.message(seen)
                seen = version
        finally:
            self.subscribers -= 1

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Hub:
    """The channels and live runs of one console."""

    def __init__(self, *, interval_s: float, redact: Callable[[str], str]) -> None:
        self.interval_s = interval_s
        self.redact = redact
        self.channels: dict[str, Channel] = {}
        self.runs: dict[Path, LiveRun] = {}

    def live(self, path: Path) -> LiveRun:
        """The one :class:`LiveRun` of ``path``."""
        path = path.resolve()
        run = self.runs.get(path)
        if run is None:
            run = self.runs[path] = LiveRun(path, min_age_s=min(0.2, self.interval_s / 2))
        return run

    def channel(self, key: str, produce: Producer) -> Channel:
        channel = self.channels.get(key)
        if channel is None:
            channel = self.channels[key] = Channel(produce, interval_s=self.interval_s, redact=self.redact)
        return channel

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()


__all__ = ["Channel", "Hub", "sse"]
