"""Warm-up: from the recovery until p95 and the error rate are within the SLO, sustained."""

from __future__ import annotations

from aftershock.core.timeline.model import Bucket
from aftershock.core.timeline.store import Timeline
from aftershock.core.timeline.warmup import slo_back_at

T0 = 1_700_000_000_000


def traffic(seconds: int, latency_ms: object) -> Timeline:
    """10 requests a second; ``latency_ms(second)`` gives their latency."""
    pieces = [Bucket.single(start_ms=T0 + i * 100, bucket_ms=100, name="GET /a", ok=True, at_ms=T0 + i * 100 + 5,
                            latency_ms=latency_ms(i // 10))  # type: ignore[operator]
              for i in range(seconds * 10)]
    return Timeline.from_pieces(pieces)


def test_slow_seconds_after_the_recovery_are_the_warm_up() -> None:
    timeline = traffic(12, lambda second: 900.0 if second < 4 else 20.0)
    assert slo_back_at(timeline, T0, max_p95_ms=500, max_error_rate=0.01, sustain_ms=3000) == T0 + 4000


def test_already_within_the_slo_is_no_warm_up() -> None:
    timeline = traffic(6, lambda second: 20.0)
    assert slo_back_at(timeline, T0 + 250, max_p95_ms=500, max_error_rate=0.01, sustain_ms=3000) == T0 + 250


def test_not_yet_sustained_is_unknown() -> None:
    timeline = traffic(6, lambda second: 900.0 if second < 4 else 20.0)
    assert slo_back_at(timeline, T0, max_p95_ms=500, max_error_rate=0.01, sustain_ms=3000) is None
