"""Drives the shop journeys' tasks in-process against a fake client (no network), for ``test_journeys_checks.py``.

Run as a subprocess (importing Locust monkey-patches the process): ``python journeys_driver.py TASKS SEED`` prints
(JSON) the requests the journeys and ``benchmarks/bare_shop_mix.py`` make for the same random choices (``mix``),
what Locust records for canned answers (``verdicts``) and waits of :func:`paced` (``pace``). Responses are Locust's own
``ResponseContextManager`` around a ``FastResponse`` holding canned bytes: the outcome is what Locust would record.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from locust.contrib.fasthttp import FastResponse, ResponseContextManager
from locust.env import Environment
from locust.event import EventHook

from aftershock.loadtests import journeys

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bare_shop_mix

HOST = "http://127.0.0.1:9"  # never contacted: the fake client answers
PRODUCT = re.compile(r"^/api/products/(\d+)$")
# the login's token and the order's id the bare users assume without reading the answer
GENERIC = {"items": [{"id": 1, "price_cents": 100}], "total": 1, "query": "q", "total_cents": 100,
           **bare_shop_mix.STAND_IN_BODY}


class _Code:
    def __init__(self, code: int) -> None:
        self.code = code

    def get_code(self) -> int:
        return self.code


def canned(status: int, body: bytes, error: BaseException | None = None) -> FastResponse:
    response = FastResponse.__new__(FastResponse)
    response._response = _Code(status)  # type: ignore[assignment]
    response._cached_content = body
    response.headers = None
    if error is not None:
        response.error = error  # type: ignore[attr-defined]
    return response


def shop_answer(method: str, path: str) -> FastResponse:
    """A valid answer for every shop route (as the benchmark's hello server gives)."""
    match = PRODUCT.match(path)
    body = {"id": int(match.group(1)), "price_cents": 100} if match else GENERIC
    return canned(201 if path == "/api/checkout" else 200, json.dumps(body).encode())


class FakeClient:
    """Records each request; answers with ``answer(method, path)`` through Locust's own response classes."""

    def __init__(self, answer: Any = shop_answer) -> None:
        self.answer = answer
        self.sent: list[list[Any]] = []
        self.recorded: list[tuple[str, str | None]] = []
        self.event = EventHook()
        self.event.add_listener(self._record)

    def _record(self, name: str, exception: BaseException | None = None, **_kw: Any) -> None:
        self.recorded.append((name, None if exception is None else str(exception)))

    def request(self, method: str, path: str, name: str | None = None, json: Any = None,
                headers: dict[str, str] | None = None, catch_response: bool = False, **_kw: Any) -> Any:
        self.sent.append([method, path, name, json, headers])
        response = self.answer(method, path)
        meta = {"request_type": method, "name": name, "context": {}, "response": response,
                "exception": getattr(response, "error", None), "start_time": time.time(), "url": path,
                "response_length": 0, "response_time": 1.0}
        if catch_response:
            return ResponseContextManager(response, self.event, meta, catch_response)
        self.event.fire(**meta)
        return response


class _Options:
    task_rate = 0.0
    connect_timeout = 2.0
    response_timeout = 5.0


def make_user(cls: type[journeys.ShopUser], client: FakeClient, task_rate: float = 0.0) -> journeys.ShopUser:
    options = _Options()
    options.task_rate = task_rate
    environment = Environment(user_classes=[cls], host=HOST, parsed_options=options)  # type: ignore[arg-type]
    cls.host = HOST  # what Locust's runner does before it spawns users
    user = cls(environment)
    user.client = client  # type: ignore[assignment]
    return user


def drive(cls: type[journeys.ShopUser], tasks: int, seed: int) -> list[list[Any]]:
    random.seed(seed)
    journeys._SHOPPER_SEQ = itertools.count(seed)  # the same shopper for both variants (the sequence is per process)
    client = FakeClient()
    user = make_user(cls, client)
    user.on_start()
    for _ in range(tasks):
        random.choice(user.tasks)(user)
    return client.sent


def mix(tasks: int, seed: int) -> dict[str, Any]:
    return {kind: {"browser": drive(browser, tasks, seed), "shopper": drive(shopper, tasks, seed),
                   "weights": [browser.weight, shopper.weight]}
            for kind, browser, shopper in (("journeys", journeys.Browser, journeys.Shopper),
                                           ("bare", bare_shop_mix.BareBrowser, bare_shop_mix.BareShopper))}


def verdicts() -> dict[str, Any]:
    """What Locust records (name, error or None) and what ``call`` returns, for canned answers to a product page."""
    cases: dict[str, FastResponse] = {
        "valid": canned(200, b'{"id": 7, "price_cents": 100}'),
        "other id": canned(200, b'{"id": 8, "price_cents": 100}'),
        "price not int": canned(200, b'{"id": 7, "price_cents": "1"}'),
        "not json": canned(200, b"<html>oops</html>"),
        "empty": canned(200, b""),
        "nan": canned(200, b'{"id": 7, "price_cents": NaN}'),
        "503": canned(503, b'{"id": 7, "price_cents": 100}'),
        "refused": canned(0, b"", ConnectionRefusedError(111, "Connection refused")),
    }
    out: dict[str, Any] = {}
    for label, response in cases.items():
        client = FakeClient(lambda _m, _p, response=response: response)
        user = make_user(journeys.Browser, client)
        body = user.call("GET", "/api/products/7", "GET /api/products/{id}", check=journeys.check_product(7))
        out[label] = {"recorded": client.recorded, "returned": body}
    client = FakeClient(lambda _m, _p: canned(401, b"{}"))
    shopper = make_user(journeys.Shopper, client)
    shopper.token = "tok-1"
    shopper.view_cart()
    out["401 forgets the token"] = {"recorded": client.recorded, "token": shopper.token}
    return out


def pace() -> dict[str, Any]:
    """Waits of :func:`paced` at ``--task-rate 0`` and 4 (after a task of 0.1 s it waits the rest of 0.25 s)."""
    closed = make_user(journeys.Browser, FakeClient(), task_rate=0.0)
    paced4 = make_user(journeys.Browser, FakeClient(), task_rate=4.0)
    first = journeys.paced(paced4)
    time.sleep(first + 0.1)  # the user waited as told, then its task took 0.1 s
    return {"closed": [journeys.paced(closed) for _ in range(3)], "rate4_first": first,
            "rate4_after_100ms_task": journeys.paced(paced4)}


if __name__ == "__main__":
    tasks, seed = int(sys.argv[1]), int(sys.argv[2])
    print(json.dumps({"mix": mix(tasks, seed), "verdicts": verdicts(), "pace": pace()}))
