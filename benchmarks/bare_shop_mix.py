"""The shop journeys' requests without the harness: a baseline locustfile for ``benchmarks/load_throughput.py``.

:class:`BareBrowser` and :class:`BareShopper` are the built-in journeys (same tasks, weights, paths, methods,
JSON bodies and headers, same random choices) with :meth:`call` replaced by a plain request: no
``catch_response``, no body parsing or checks, no pacing, and this file attaches no timeline and no
fresh-connection probe. What the journeys cost more than these users is the harness's own overhead; what these
users cost more than one bare GET is the request mix's (POST bodies, longer URLs, bigger answers).

Run with ``locust -f benchmarks/bare_shop_mix.py --headless -H URL ...`` (only these two user classes).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from locust import constant

from aftershock.loadtests import journeys

# What a call "returns" without parsing the answer: the fields the journeys read from a body (the login's
# token, the order's id) as the benchmark's hello server answers them, so the bare shopper sends the same
# follow-up requests (same Authorization header, same order look-up).
STAND_IN_BODY = {"token": "t", "order_id": 1}


def bare_call(
    user: journeys.ShopUser,
    method: str,
    path: str,
    name: str,
    *,
    expect: Collection[int] = (200,),
    check: journeys.Validator | None = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """:meth:`ShopUser.call` without the checks: Locust records the request (HTTP errors fail it), nothing else."""
    user.client.request(method, path, name=name, json=json_body, headers=headers)
    return STAND_IN_BODY


class BareBrowser(journeys.Browser):
    wait_time = constant(0)
    call = bare_call


class BareShopper(journeys.Shopper):
    wait_time = constant(0)
    call = bare_call
