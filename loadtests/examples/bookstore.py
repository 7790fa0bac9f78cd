"""Journeys for the bookstore of the seed design (API Gateway + Lambda, DynamoDB cart keyed by customer and book).

Use it as it is against a bookstore with the same API, or as the pattern for your own platform::

    aftershock run az-outage --target my-bookstore.yaml --locustfile loadtests/examples/bookstore.py

It imports nothing of aftershock: the timeline, the fresh-connection probe and the load shape are attached by
aftershock. What makes it a well-behaved chaos workload (as the built-in shop journeys are):

- paced users (``constant_throughput``): the load stays the same while the platform is down, so the timeline's
  request rate around the outage, and with it the RTO's error bar, does not collapse;
- short timeouts (connect 2 s, response 5 s): a frozen service shows as failed, not as a long wait;
- every answer checked (``catch_response``): a 200 with the wrong body is a failure, not a success;
- request names with the id left out (``GET /books/{id}``): one line per endpoint in the report.

The customer is a header, as the bookstore's authorizer passes it on (set ``BOOKSTORE_TOKEN`` for a real
deployment; the target's ``load.http.headers`` can add it from the environment instead).
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any

from locust import FastHttpUser, constant_throughput, task

CATEGORIES = ("Cookbooks", "Database", "Fairy Tales", "Home Improvement", "Science Fiction", "Travel")


def _ok(response: Any, check: Any) -> None:
    """Mark ``response`` failed unless it is a 200 whose JSON body passes ``check``."""
    if response.status_code != 200:
        response.failure(f"status {response.status_code}")
        return
    try:
        body = response.json()
    except ValueError:
        response.failure("bad body: not JSON")
        return
    if not check(body):
        response.failure("bad body")


class BookBrowser(FastHttpUser):
    """Looks at categories, bestsellers and single books: the read path (API Gateway -> Lambda -> DynamoDB)."""

    weight = 3
    wait_time = constant_throughput(1)
    connection_timeout = 2.0
    network_timeout = 5.0

    def on_start(self) -> None:
        self.book_ids: list[str] = []

    @task(3)
    def category(self) -> None:
        category = random.choice(CATEGORIES)
        with self.client.get(f"/books?category={category}", name="GET /books?category",
                             catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, list))
            if response.status_code == 200 and isinstance(body := response.json(), list):
                self.book_ids = [str(b["id"]) for b in body if isinstance(b, dict) and "id" in b][:20]

    @task(2)
    def book(self) -> None:
        if not self.book_ids:
            return
        book_id = random.choice(self.book_ids)
        with self.client.get(f"/books/{book_id}", name="GET /books/{id}", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, dict) and str(body.get("id")) == book_id)

    @task(1)
    def bestsellers(self) -> None:
        with self.client.get("/bestsellers", name="GET /bestsellers", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, list))


class BookBuyer(FastHttpUser):
    """Fills a cart (DynamoDB, by customer and book) and orders it: the write path."""

    weight = 1
    wait_time = constant_throughput(0.5)
    connection_timeout = 2.0
    network_timeout = 5.0

    def on_start(self) -> None:
        self.customer = os.environ.get("BOOKSTORE_TOKEN") or f"customer-{uuid.uuid4().hex[:12]}"
        self.headers = {"Authorization": self.customer}

    @task
    def buy(self) -> None:
        with self.client.get("/bestsellers", name="GET /bestsellers", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, list) and len(body) > 0)
            if response.status_code != 200 or not isinstance(body := response.json(), list) or not body:
                return
        book = random.choice(body)
        with self.client.post("/cart", json={"bookId": book["id"], "quantity": 1, "price": book["price"]},
                              headers=self.headers, name="POST /cart", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, dict) and body.get("bookId") == book["id"])
        with self.client.get("/cart", headers=self.headers, name="GET /cart", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, list) and any(i.get("bookId") == book["id"] for i in body))
        with self.client.post("/orders", json={"books": [{"bookId": book["id"], "quantity": 1}]},
                              headers=self.headers, name="POST /orders", catch_response=True) as response:
            _ok(response, lambda body: isinstance(body, dict) and "orderId" in body)
