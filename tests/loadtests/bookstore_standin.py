"""A small stand-in for the seed design's bookstore API (starlette), for the bookstore example's test.

Run: ``python tests/loadtests/bookstore_standin.py PORT``. Counts answers per route in ``GET /__count``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CATEGORIES = ("Cookbooks", "Database", "Fairy Tales", "Home Improvement", "Science Fiction", "Travel")
BOOKS = [{"id": f"book-{n}", "name": f"Book {n}", "category": CATEGORIES[n % len(CATEGORIES)], "price": 10 + n}
         for n in range(60)]


def make_app() -> Any:
    counts: collections.Counter[str] = collections.Counter()
    carts: dict[tuple[str, str], dict[str, Any]] = {}
    order_ids = itertools.count(1)

    def answer(route: str, body: Any, status: int = 200) -> JSONResponse:
        counts[route] += 1
        return JSONResponse(body, status_code=status)

    async def books(request: Request) -> JSONResponse:
        category = request.query_params.get("category")
        return answer("books", [b for b in BOOKS if category is None or b["category"] == category])

    async def book(request: Request) -> JSONResponse:
        found = [b for b in BOOKS if b["id"] == request.path_params["id"]]
        return answer("book", found[0]) if found else answer("book", {"error": "no such book"}, 404)

    async def bestsellers(request: Request) -> JSONResponse:
        return answer("bestsellers", BOOKS[:10])

    async def cart(request: Request) -> JSONResponse:
        customer = request.headers.get("authorization")
        if not customer:
            return answer("cart", {"error": "unauthorized"}, 401)
        if request.method == "POST":
            item = await request.json()
            carts[(customer, item["bookId"])] = {"customerId": customer, **item}
            return answer("cart", carts[(customer, item["bookId"])])
        return answer("cart", [v for (c, _), v in carts.items() if c == customer])

    async def orders(request: Request) -> JSONResponse:
        if not request.headers.get("authorization"):
            return answer("orders", {"error": "unauthorized"}, 401)
        return answer("orders", {"orderId": next(order_ids), **await request.json()})

    async def count(request: Request) -> JSONResponse:
        return JSONResponse(dict(counts))

    return Starlette(routes=[
        Route("/books", books), Route("/books/{id}", book), Route("/bestsellers", bestsellers),
        Route("/cart", cart, methods=["GET", "POST"]), Route("/orders", orders, methods=["POST"]),
        Route("/__count", count),
    ])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    uvicorn.run(make_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
