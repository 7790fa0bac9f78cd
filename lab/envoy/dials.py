"""Global Accelerator traffic dials and the route weights they give.

The lab has one client geography, nearest the first region (the primary). GA sends the primary's dial
percentage of that traffic to the primary and spills the rest to the next-nearest region, whose own dial
only limits traffic from clients near it (the lab has none). With more regions the spill walks on, each
region taking its dial's share of what is left and the last one taking the remainder.
"""

from __future__ import annotations

from collections.abc import Mapping

from aftershock.core.errors import FaultRefused


def validated_dials(
    regions: tuple[str, ...], current: Mapping[str, int], change: Mapping[str, object]
) -> dict[str, int]:
    """``current`` updated with ``change``; FaultRefused (nothing changed) on an unknown region or bad value."""
    merged = dict(current)
    for region, value in change.items():
        if region not in regions:
            raise FaultRefused(f"traffic dial for unknown region {region!r}: use one of {', '.join(regions)}")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise FaultRefused(f"traffic dial for {region} is {value!r}: use an integer percentage from 0 to 100")
        merged[region] = value
    return merged


def route_weights(regions: tuple[str, ...], dials: Mapping[str, int]) -> dict[str, int]:
    """Percent of front-door requests first sent to each region's endpoint group (sums to 100)."""
    weights: dict[str, int] = {}
    remaining = 100
    for region in regions[:-1]:
        share = remaining * dials[region] // 100
        weights[region] = share
        remaining -= share
    weights[regions[-1]] = remaining
    return weights
