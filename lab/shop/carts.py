"""The cart in the region's DynamoDB global table, as the seeds keep it (the lab's stand-in or DynamoDB itself).

Same routes and answers as the PostgreSQL cart (``GET /api/cart``, ``POST /api/cart/items``, ``DELETE
/api/cart/items/{id}``, ``POST /api/checkout``): one item per user, ``{"pk": "cart#<user>", "p<product>":
<quantity>, ...}`` (``ADD`` makes concurrent adds count, a condition keeps a line within 999), read and written in
the pod's region (strongly consistent reads: read-your-writes in the region).
Prices, products and orders stay in PostgreSQL. Checkout claims the cart atomically (``DeleteItem`` returning the
old item: of two concurrent checkouts one gets it, the other finds it empty), then writes the order; when the
database fails the lines are put back.

After a failover the secondary's pods read the secondary's table: a cart written in the primary shows there once
replicated; a cart not replicated before the loss is gone (an empty cart, as on AWS). A table that does not answer
is a 503 naming it. The table of each region is read from ``SHOP_STORES_FILE`` on the first cart request; httpx is
imported then (a pod's start-up pays nothing for it).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftershock.core.errors import LabError
from aftershock.lab.shop import queries
from aftershock.lab.shop.regionstore import RegionStore, region_store
from aftershock.lab.standins.scope import authorization

MAX_QUANTITY = 999


class TableUnavailable(LabError):
    """The region's cart table did not answer (or answered 5xx)."""


class TableRefused(TableUnavailable):
    """The table refused the call (a 4xx: a condition failed, or the table is missing)."""


class _Table(RegionStore):
    """The region's cart table."""

    def __init__(self, config: dict[str, Any], region: str) -> None:
        super().__init__(config, region)
        self.name = str(config["table"])

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        headers = {"X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-json-1.0",
                   "Authorization": authorization(self.region, "dynamodb")}
        try:
            response = await self.http.post(self.endpoint + "/", content=json.dumps({"TableName": self.name, **body}),
                                            headers=headers)
        except httpx.HTTPError as exc:
            raise TableUnavailable(f"{type(exc).__name__}") from exc
        if 400 <= response.status_code < 500:
            kind = str((response.json() if response.content else {}).get("__type", "?")).rpartition("#")[2]
            raise TableRefused(f"{operation} refused: {kind}")
        if response.status_code != 200:
            raise TableUnavailable(f"{operation} answered {response.status_code}")
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    async def lines(self, user_id: int) -> dict[int, int]:
        reply = await self.call("GetItem", {"Key": _key(user_id), "ConsistentRead": True})
        return _lines_of(reply.get("Item"))

    async def add(self, user_id: int, product_id: int, quantity: int) -> dict[int, int] | None:
        """Add to the line atomically (``ADD``: concurrent adds all count); None when it would exceed the cap."""
        try:
            reply = await self.call("UpdateItem", {
                "Key": _key(user_id), "UpdateExpression": "ADD #p :q", "ReturnValues": "ALL_NEW",
                "ConditionExpression": "attribute_not_exists(#p) OR #p <= :room",
                "ExpressionAttributeNames": {"#p": f"p{product_id}"},
                "ExpressionAttributeValues": {":q": {"N": str(quantity)},
                                              ":room": {"N": str(MAX_QUANTITY - quantity)}}})
        except TableRefused as exc:
            if "ConditionalCheckFailed" in str(exc):
                return None
            raise
        return _lines_of(reply.get("Attributes"))

    async def remove(self, user_id: int, product_id: int) -> dict[int, int]:
        reply = await self.call("UpdateItem", {"Key": _key(user_id), "UpdateExpression": "REMOVE #p",
                                               "ExpressionAttributeNames": {"#p": f"p{product_id}"},
                                               "ReturnValues": "ALL_NEW"})
        return _lines_of(reply.get("Attributes"))

    async def put(self, user_id: int, lines: dict[int, int]) -> None:
        await self.call("PutItem", {"Item": {**_key(user_id), **{f"p{p}": {"N": str(q)} for p, q in lines.items()}}})

    async def claim(self, user_id: int) -> dict[int, int]:
        """Take the cart away (atomically): its lines, empty when there was none."""
        reply = await self.call("DeleteItem", {"Key": _key(user_id), "ReturnValues": "ALL_OLD"})
        return _lines_of(reply.get("Attributes"))


def _key(user_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"cart#{user_id}"}}


def _lines_of(item: dict[str, Any] | None) -> dict[int, int]:
    """``{product: quantity}`` of an item whose attributes ``p<product>`` hold the quantities."""
    return {int(name[1:]): int(value["N"]) for name, value in (item or {}).items()
            if name.startswith("p") and name[1:].isdigit() and int(value.get("N", 0)) > 0}


def _reply(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


UserId = Callable[[Request], int]
Body = Callable[[Request], Awaitable[dict[str, Any]]]


Work = Callable[[_Table, int], Awaitable[Response]]


async def _with_table(request: Request, user_id: int, work: Work) -> Response:
    table = region_store(request, "cart_table", _Table)
    if table is None:
        return _reply({"error": "the cart table is not ready in this region"}, 503)
    try:
        return await work(table, user_id)
    except TableUnavailable as exc:
        return _reply({"error": f"the {table.region} cart table {table.name} is unavailable ({exc})"}, 503)


def table_routes(user_id_of: UserId, json_body: Body) -> list[Route]:
    """The cart routes on the table; ``user_id_of`` and ``json_body`` are the app's (they raise its API errors)."""

    def with_table(request: Request, work: Work) -> Awaitable[Response]:
        return _with_table(request, user_id_of(request), work)

    async def get_cart(request: Request) -> Response:
        async def work(table: _Table, user_id: int) -> Response:
            return _reply(await _priced(request, await table.lines(user_id)))
        return await with_table(request, work)

    async def add_item(request: Request) -> Response:
        body = await json_body(request)
        raw_id, raw_quantity = body.get("product_id"), body.get("quantity", 1)
        if not _strict_int(raw_id) or not 1 <= raw_id <= 2**63 - 1:
            return _reply({"error": "product_id must be a positive integer"}, 422)
        if not _strict_int(raw_quantity) or not 1 <= raw_quantity <= MAX_QUANTITY:
            return _reply({"error": f"quantity must be an integer from 1 to {MAX_QUANTITY}"}, 422)
        product_id, quantity = raw_id, raw_quantity

        async def work(table: _Table, user_id: int) -> Response:
            if not (await _priced(request, {product_id: 1}))["items"]:
                return _reply({"error": "product not found"}, 404)
            lines = await table.add(user_id, product_id, quantity)
            if lines is None:
                return _reply({"error": f"a cart line cannot exceed {MAX_QUANTITY} items"}, 422)
            return _reply(await _priced(request, lines))
        return await with_table(request, work)

    async def remove_item(request: Request) -> Response:
        raw = str(request.path_params["product_id"])
        if not (raw.isascii() and raw.isdigit()):
            return _reply({"error": "product not found"}, 404)

        async def work(table: _Table, user_id: int) -> Response:
            return _reply(await _priced(request, await table.remove(user_id, int(raw))))
        return await with_table(request, work)

    async def checkout(request: Request) -> Response:
        async def work(table: _Table, user_id: int) -> Response:
            lines = await table.claim(user_id)
            if not lines:
                return _reply({"error": "cart is empty"}, 409)
            try:
                order = await request.app.state.db.write(lambda c: queries.order_from_lines(c, user_id, lines))
            except Exception:  # the order was not written (or in doubt: the lab prefers a cart back to a lost one)
                await table.put(user_id, lines)  # a line added meanwhile is overwritten: rare, and the lab's
                raise
            return _reply(order, 201)
        return await with_table(request, work)

    return [Route("/api/cart", get_cart, methods=["GET"]), Route("/api/cart/items", add_item, methods=["POST"]),
            Route("/api/cart/items/{product_id}", remove_item, methods=["DELETE"]),
            Route("/api/checkout", checkout, methods=["POST"])]


async def _priced(request: Request, lines: dict[int, int]) -> dict[str, Any]:
    """The cart's answer at current prices (products that no longer exist are left out)."""
    prices = await request.app.state.db.read(lambda c: queries.prices(c, list(lines))) if lines else {}
    items = [{"product_id": p, "quantity": q, "price_cents": prices[p]} for p, q in sorted(lines.items())
             if p in prices]
    return {"items": items, "total_cents": sum(i["quantity"] * i["price_cents"] for i in items)}


def _strict_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
