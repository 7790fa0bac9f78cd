"""The load generator's own scheduling delay: how late its gevent loop runs, per timeline bucket.

A request's start time is stamped when its greenlet begins it; when the loop is busy (a burst of greenlets woken
after a stall, a saturated generator) the request is really sent later, so the service may receive requests in
another order than their start times say. :class:`LoopLagSampler` is a greenlet that sleeps ``sample_ms`` and
measures how late it wakes; the worst lag per bucket goes into the timeline (``"kind": "lag"`` lines), and the
RTO's error bar widens by the lag around the recovery edge.

Example::

    sampler = LoopLagSampler(bucket_ms=100)
    sampler.start()
    ...
    lags = sampler.drain()    # [LoopLag(start_ms=..., bucket_ms=100, max_ms=0.4, samples=9, sample_ms=10.0), ...]
    sampler.stop()
"""

from __future__ import annotations

import time

import gevent

from aftershock.core.timeline.model import LoopLag

SAMPLE_MS = 10.0


class LoopLagSampler:
    """A greenlet sampling the loop's lag every ``sample_ms``; :meth:`drain` hands over the worst lag per bucket."""

    def __init__(self, bucket_ms: int = 100, sample_ms: float = SAMPLE_MS) -> None:
        if bucket_ms <= 0 or not sample_ms > 0:
            raise ValueError(f"bucket_ms={bucket_ms} and sample_ms={sample_ms} must be positive")
        self.bucket_ms = bucket_ms
        self.sample_ms = sample_ms
        self.pending: dict[int, tuple[float, int]] = {}
        self._greenlet: gevent.Greenlet | None = None

    def __repr__(self) -> str:
        return f"LoopLagSampler(bucket_ms={self.bucket_ms}, sample_ms={self.sample_ms:g})"

    def observe(self, due_ms: float, lag_ms: float) -> None:
        """One wake-up that was due at ``due_ms`` (epoch) and came ``lag_ms`` late."""
        index = int(due_ms // self.bucket_ms)
        worst, count = self.pending.get(index, (0.0, 0))
        self.pending[index] = (max(worst, lag_ms), count + 1)

    def drain(self) -> list[LoopLag]:
        """The worst lag per bucket since the previous drain (and forget them)."""
        pending, self.pending = self.pending, {}
        return [LoopLag(index * self.bucket_ms, self.bucket_ms, worst, count, self.sample_ms)
                for index, (worst, count) in sorted(pending.items())]

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _run(self) -> None:
        period = self.sample_ms / 1000.0
        while True:
            due = time.perf_counter() + period
            due_ms = time.time() * 1000.0 + self.sample_ms
            gevent.sleep(period)
            self.observe(due_ms, max(0.0, (time.perf_counter() - due) * 1000.0))


__all__ = ["SAMPLE_MS", "LoopLagSampler"]
