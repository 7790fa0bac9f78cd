"""The journeys' checks and pacing, and the benchmark's bare same-mix baseline, without a server: the tasks run
in a subprocess against a fake client answering through Locust's own response classes (``journeys_driver.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.loadtests.loadkit import HERE, REPO

ROUTES = {"GET /api/products", "GET /api/search", "GET /api/products/{id}", "POST /api/login", "GET /api/cart",
          "POST /api/cart/items", "DELETE /api/cart/items/{product_id}", "POST /api/checkout", "GET /api/orders/{id}"}


@pytest.fixture(scope="module")
def driven() -> dict[str, Any]:
    """One subprocess for all: 400 tasks per user class, seed 7."""
    done = subprocess.run([sys.executable, str(HERE / "journeys_driver.py"), "400", "7"], capture_output=True,
                          text=True, timeout=60, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


@pytest.fixture
def verdicts(driven: dict[str, Any]) -> dict[str, Any]:
    return dict(driven["verdicts"])


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("valid", None),
        ("other id", "bad body: product 7 missing or with another id"),
        ("price not int", "bad body: product 7 missing or with another id"),
        ("not json", "bad body: not JSON"),
        ("empty", "bad body: not JSON"),
        ("nan", "bad body: not JSON"),  # not strict JSON: a service answering NaN has a bug worth a failure
        ("503", "http 503"),
        ("refused", "[Errno 111] Connection refused"),  # Locust records the connection error itself
    ],
)
def test_a_product_page_is_recorded_once_with_its_verdict(verdicts: dict[str, Any], case: str,
                                                          error: str | None) -> None:
    outcome = verdicts[case]
    assert outcome["recorded"] == [["GET /api/products/{id}", error]]
    assert outcome["returned"] == ({"id": 7, "price_cents": 100} if error is None else None)


def test_a_401_fails_and_makes_the_shopper_log_in_again(verdicts: dict[str, Any]) -> None:
    assert verdicts["401 forgets the token"] == {"recorded": [["GET /api/cart", "http 401"]], "token": None}


def test_pacing_reads_the_rate_once_and_keeps_constant_throughput(driven: dict[str, Any]) -> None:
    waits = driven["pace"]
    assert waits["closed"] == [0.0, 0.0, 0.0]  # --task-rate 0: closed loop
    assert waits["rate4_first"] == pytest.approx(0.25, abs=0.01)
    assert waits["rate4_after_100ms_task"] == pytest.approx(0.15, abs=0.05)  # the rest of the 0.25 s period


def test_the_bare_same_mix_sends_exactly_the_journeys_requests(driven: dict[str, Any]) -> None:
    """benchmarks/bare_shop_mix.py is the baseline of the harness's overhead: same requests, only no checks."""
    both = driven["mix"]
    journeys, bare = both["journeys"], both["bare"]
    assert bare == journeys
    assert journeys["weights"] == [7, 3]
    assert {name for user in ("browser", "shopper") for _, _, name, _, _ in journeys[user]} == ROUTES
