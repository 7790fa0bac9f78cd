"""Schema and seed: complete, deterministic, repeatable, fast."""

from __future__ import annotations

import psycopg

from aftershock.lab.shop.schema import load_schema_and_seed, password_hash, product_row
from tests.lab.conftest_shop import PostgresServer, pg_password, private_pg  # noqa: F401  (fixtures)


def test_seed_default_size_is_fast_and_deterministic(private_pg: PostgresServer) -> None:  # noqa: F811
    first = load_schema_and_seed(private_pg.conninfo)
    assert (first.products, first.users) == (3000, 5000)
    assert first.seconds < 1.0, f"seeding took {first.seconds:.3f} s"

    with psycopg.connect(private_pg.conninfo) as conn:
        snapshot = conn.execute("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM products p").fetchone()
        conn.execute("INSERT INTO aftershock_ledger (seq, writer, payload) VALUES (1, 'w', 'x')")
        conn.commit()

    again = load_schema_and_seed(private_pg.conninfo)  # reseeding resets everything
    assert again.seconds < 1.0
    with psycopg.connect(private_pg.conninfo) as conn:
        assert conn.execute("SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM products p").fetchone() == (snapshot)
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM users),"
            " (SELECT count(*) FROM aftershock_ledger), (SELECT count(DISTINCT category) FROM products)"
        ).fetchone()
        assert counts == (3000, 5000, 0, 12)
        user = conn.execute("SELECT id, password_sha256 FROM users WHERE username = 'shopper-42'").fetchone()
        assert user == (42, password_hash("shopper-42", "pw-42"))
        assert conn.execute("SELECT * FROM products WHERE id = 7").fetchone() == product_row(7)
        ledger = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'aftershock_ledger' ORDER BY ordinal_position"
        ).fetchall()
        assert ledger == [
            ("seq", "bigint", "NO"),
            ("writer", "text", "NO"),
            ("written_at", "timestamp with time zone", "NO"),
            ("payload", "text", "YES"),
        ]
        lamps = conn.execute("SELECT count(*) FROM products WHERE name ILIKE '%lamp%'").fetchone()
        assert lamps is not None and lamps[0] >= 100  # the search endpoint has plenty to find
