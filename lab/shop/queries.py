"""The shop's SQL, one coroutine per use case; each takes a connection and returns JSON-ready values.

Which endpoint (reader or writer) and which transaction a query runs in is decided by the caller
(:mod:`aftershock.lab.shop.app` through :class:`aftershock.lab.shop.db.Database`), not here.
"""

from __future__ import annotations

from typing import Any

from aftershock.lab.shop.db import Conn

Json = dict[str, Any]

_LIST_ALL = """
SELECT t.total, p.id, p.sku, p.name, p.category, p.price_cents
FROM (SELECT count(*) AS total FROM products) t
LEFT JOIN LATERAL (
    SELECT id, sku, name, category, price_cents FROM products ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
) p ON true
"""
# A separate statement rather than "category = %s OR %s IS NULL", which a generic plan cannot index.
_LIST_CATEGORY = """
SELECT t.total, p.id, p.sku, p.name, p.category, p.price_cents
FROM (SELECT count(*) AS total FROM products WHERE category = %(category)s) t
LEFT JOIN LATERAL (
    SELECT id, sku, name, category, price_cents FROM products WHERE category = %(category)s
    ORDER BY id LIMIT %(limit)s OFFSET %(offset)s
) p ON true
"""


def _summary(row: tuple[Any, ...]) -> Json:
    return {"id": row[0], "sku": row[1], "name": row[2], "category": row[3], "price_cents": row[4]}


async def list_products(conn: Conn, page: int, size: int, category: str | None) -> tuple[list[Json], int]:
    """One page of the catalogue (ordered by id) and the total number of matching products."""
    params = {"limit": size, "offset": (page - 1) * size, "category": category}
    cur = await conn.execute(_LIST_ALL if category is None else _LIST_CATEGORY, params)
    rows = await cur.fetchall()
    total = int(rows[0][0]) if rows else 0
    return [_summary(row[1:]) for row in rows if row[1] is not None], total


def like_pattern(text: str) -> str:
    """An ILIKE pattern matching ``text`` anywhere, with LIKE's wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_products(conn: Conn, query: str, limit: int) -> list[Json]:
    """Products whose name contains ``query`` (case-insensitive), lowest id first.

    A sequential scan: a few thousand short names take well under a millisecond, no index needed.
    """
    cur = await conn.execute(
        "SELECT id, sku, name, category, price_cents FROM products WHERE name ILIKE %s ORDER BY id LIMIT %s",
        (like_pattern(query), limit),
    )
    return [_summary(row) for row in await cur.fetchall()]


async def get_product(conn: Conn, product_id: int) -> Json | None:
    """The full product, or None."""
    cur = await conn.execute(
        "SELECT id, sku, name, description, category, price_cents, stock FROM products WHERE id = %s",
        (product_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    keys = ("id", "sku", "name", "description", "category", "price_cents", "stock")
    return dict(zip(keys, row, strict=True))


async def find_user(conn: Conn, username: str) -> tuple[int, str] | None:
    """(user id, stored password hash) for ``username``, or None."""
    cur = await conn.execute("SELECT id, password_sha256 FROM users WHERE username = %s", (username,))
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


async def cart(conn: Conn, user_id: int) -> Json:
    """The user's cart at current prices."""
    cur = await conn.execute(
        "SELECT c.product_id, c.quantity, p.price_cents FROM cart_items c"
        " JOIN products p ON p.id = c.product_id WHERE c.user_id = %s ORDER BY c.product_id",
        (user_id,),
    )
    items = [{"product_id": r[0], "quantity": r[1], "price_cents": r[2]} for r in await cur.fetchall()]
    return {"items": items, "total_cents": sum(i["quantity"] * i["price_cents"] for i in items)}


async def add_to_cart(conn: Conn, user_id: int, product_id: int, quantity: int) -> Json | None:
    """Add ``quantity`` of a product (summing with what is there); the new cart, or None if no such product."""
    cur = await conn.execute(
        "INSERT INTO cart_items (user_id, product_id, quantity)"
        " SELECT %s, id, %s FROM products WHERE id = %s"
        " ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + EXCLUDED.quantity"
        " RETURNING product_id",
        (user_id, quantity, product_id),
    )
    if await cur.fetchone() is None:
        return None
    return await cart(conn, user_id)


async def remove_from_cart(conn: Conn, user_id: int, product_id: int) -> Json:
    """Drop a product from the cart (absent is fine); the new cart."""
    await conn.execute("DELETE FROM cart_items WHERE user_id = %s AND product_id = %s", (user_id, product_id))
    return await cart(conn, user_id)


async def checkout(conn: Conn, user_id: int) -> Json | None:
    """Turn the cart into an order; None when the cart is empty. Must run inside one transaction."""
    # Lock the user row: concurrent checkouts of one cart queue here, and the later ones then find the
    # cart already emptied (READ COMMITTED takes a fresh snapshot per statement).
    await conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
    items = (await cart(conn, user_id))["items"]
    if not items:
        return None
    order = await _insert_order(conn, user_id, items)
    await conn.execute("DELETE FROM cart_items WHERE user_id = %s", (user_id,))
    return order


async def prices(conn: Conn, product_ids: list[int]) -> dict[int, int]:
    """Current price of each product that exists."""
    cur = await conn.execute("SELECT id, price_cents FROM products WHERE id = ANY(%s)", (product_ids,))
    return {int(r[0]): int(r[1]) for r in await cur.fetchall()}


async def order_from_lines(conn: Conn, user_id: int, lines: dict[int, int]) -> Json:
    """An order of ``lines`` (product -> quantity, a cart kept outside the database) at current prices; products
    that no longer exist are left out. Must run inside one transaction."""
    found = await prices(conn, list(lines))
    items = [{"product_id": p, "quantity": q, "price_cents": found[p]} for p, q in sorted(lines.items()) if p in found]
    return await _insert_order(conn, user_id, items)


async def _insert_order(conn: Conn, user_id: int, items: list[dict[str, Any]]) -> Json:
    total = sum(i["quantity"] * i["price_cents"] for i in items)
    cur = await conn.execute(
        "INSERT INTO orders (user_id, total_cents) VALUES (%s, %s) RETURNING id, created_at", (user_id, total)
    )
    row = await cur.fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    order_id, created_at = row
    await conn.execute(
        "INSERT INTO order_items (order_id, product_id, quantity, price_cents)"
        " SELECT %s, * FROM unnest(%s::bigint[], %s::integer[], %s::integer[])",
        (
            order_id,
            [i["product_id"] for i in items],
            [i["quantity"] for i in items],
            [i["price_cents"] for i in items],
        ),
    )
    return {"order_id": order_id, "total_cents": total, "created_at": created_at, "items": items}


async def get_order(conn: Conn, user_id: int, order_id: int) -> Json | None:
    """The order with its items if it exists and belongs to ``user_id``, else None."""
    cur = await conn.execute(
        "SELECT id, total_cents, created_at FROM orders WHERE id = %s AND user_id = %s", (order_id, user_id)
    )
    row = await cur.fetchone()
    if row is None:
        return None
    cur = await conn.execute(
        "SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = %s ORDER BY product_id",
        (order_id,),
    )
    items = [{"product_id": r[0], "quantity": r[1], "price_cents": r[2]} for r in await cur.fetchall()]
    return {"order_id": row[0], "total_cents": row[1], "created_at": row[2], "items": items}
