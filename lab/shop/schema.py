"""The shop's tables and a fast, deterministic seed.

Seeded users are lab test credentials, not secrets: ``shopper-<n>`` / ``pw-<n>`` for n = 1..users.
Passwords are stored as ``sha256("<username>:<password>")`` in hex (see :func:`password_hash`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

SHOP_TABLES = ("order_items", "orders", "cart_items", "users", "products", "aftershock_ledger")

SCHEMA_SQL = """
DROP TABLE IF EXISTS order_items, orders, cart_items, users, products, aftershock_ledger CASCADE;

CREATE TABLE products (
    id          bigint PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL,
    category    text NOT NULL,
    price_cents integer NOT NULL CHECK (price_cents >= 0),
    stock       integer NOT NULL CHECK (stock >= 0)
);
CREATE INDEX products_category_id ON products (category, id);

CREATE TABLE users (
    id              bigint PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    password_sha256 text NOT NULL
);

CREATE TABLE cart_items (
    user_id    bigint NOT NULL REFERENCES users (id),
    product_id bigint NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    total_cents bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id ON orders (user_id);

CREATE TABLE order_items (
    order_id    bigint NOT NULL REFERENCES orders (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL,
    price_cents integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- The RPO canary's append-only ledger: one row per acknowledged write, numbered by the writer.
CREATE TABLE aftershock_ledger (
    seq        bigint PRIMARY KEY,
    writer     text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    payload    text
);
"""

CATEGORIES = (
    "lighting", "furniture", "kitchen", "garden", "outdoor", "office",
    "bath", "toys", "audio", "books", "sports", "pets",
)  # fmt: skip
_ADJECTIVES = (
    "Classic", "Modern", "Rustic", "Compact", "Deluxe", "Vintage", "Smart", "Cozy",
    "Bold", "Quiet", "Sturdy", "Sleek", "Bright", "Nordic", "Urban", "Handmade",
)  # fmt: skip
_MATERIALS = ("Oak", "Steel", "Linen", "Glass", "Bamboo", "Copper", "Ceramic", "Wool", "Walnut", "Marble")
_NOUNS = (
    "Lamp", "Chair", "Table", "Kettle", "Planter", "Lantern", "Desk", "Mirror", "Speaker", "Blanket",
    "Shelf", "Stool", "Mug", "Clock", "Rug", "Vase", "Bench", "Cushion", "Bowl", "Basket",
)  # fmt: skip


@dataclass(frozen=True)
class SeedResult:
    """What :func:`load_schema_and_seed` loaded and how long it took."""

    products: int
    users: int
    seconds: float


def password_hash(username: str, password: str) -> str:
    """Hex sha256 of ``username:password`` (lab credentials: a fast hash is fine here, not in production)."""
    return hashlib.sha256(f"{username}:{password}".encode()).hexdigest()


def product_row(n: int) -> tuple[int, str, str, str, str, int, int]:
    """Product ``n`` (1-based): (id, sku, name, description, category, price_cents, stock), deterministic."""
    i = n - 1
    name = (
        f"{_ADJECTIVES[i % len(_ADJECTIVES)]} {_MATERIALS[(i // 3) % len(_MATERIALS)]} "
        f"{_NOUNS[(i // 7) % len(_NOUNS)]} {n}"
    )
    category = CATEGORIES[i % len(CATEGORIES)]
    price_cents = 199 + (n * 7919) % 49_800  # 1.99 .. 499.98, spread by a prime stride
    stock = 10 + (n * 131) % 490
    description = f"{name}: a lab catalogue item in {category}, seeded deterministically."
    return n, f"SKU-{n:06d}", name, description, category, price_cents, stock


def _users(count: int) -> Iterator[tuple[int, str, str]]:
    for n in range(1, count + 1):
        username = f"shopper-{n}"
        yield n, username, password_hash(username, f"pw-{n}")


def load_schema_and_seed(conninfo: str, products: int = 3000, users: int = 5000) -> SeedResult:
    """(Re)create every shop table on the writer at ``conninfo`` and load the catalogue and users.

    Destructive and deterministic: existing shop tables (and the ledger) are dropped first, so the same
    arguments always yield the same rows. One transaction, loaded with COPY; then ANALYZE for good plans.
    """
    if products < 1 or users < 1:
        raise ValueError("need at least one product and one user")
    started = time.perf_counter()
    with psycopg.connect(conninfo, connect_timeout=10) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL client_min_messages = warning")  # silence DROP ... IF EXISTS notices
            conn.execute(SCHEMA_SQL)
            with conn.cursor().copy(
                "COPY products (id, sku, name, description, category, price_cents, stock) FROM STDIN"
            ) as copy:
                for n in range(1, products + 1):
                    copy.write_row(product_row(n))
            with conn.cursor().copy("COPY users (id, username, password_sha256) FROM STDIN") as copy:
                for row in _users(users):
                    copy.write_row(row)
        conn.autocommit = True
        conn.execute("ANALYZE products, users, cart_items, orders, order_items")
    return SeedResult(products, users, time.perf_counter() - started)
