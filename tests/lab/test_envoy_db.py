"""The Aurora writer and reader endpoints as TCP proxies (real Envoy, real TCP servers)."""

from __future__ import annotations

from pathlib import Path

from tests.lab.conftest_envoy import greeting_via, running_lab


def test_writer_endpoint_moves_new_connections_and_keeps_old_ones(tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab:
        old, new = lab.database("shop-east-a"), lab.database("shop-east-b")
        port = lab.envoy.layout.db_writer
        lab.envoy.set_db_writer(old.endpoint)
        before, name = greeting_via(port)
        assert name == "shop-east-a"

        applied = lab.envoy.set_db_writer(new.endpoint)
        assert applied.seconds is not None and applied.seconds < 1.0
        after, name = greeting_via(port)
        assert name == "shop-east-b"
        # Like Aurora's DNS endpoint: an established connection stays with the old instance.
        before.sendall(b"ping\n")
        assert before.recv(100) == b"ping\n"
        before.close()
        after.close()


def test_no_writer_refuses_connections(tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab:
        lab.envoy.set_db_writer(None)
        sock, name = greeting_via(lab.envoy.layout.db_writer)
        sock.close()
        assert name == ""  # Envoy closed the connection: no upstream


def test_reader_endpoint_spreads_connections_over_the_readers(tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab:
        readers = [lab.database("shop-east-b"), lab.database("shop-east-c")]
        lab.envoy.set_db_readers("us-east-1", [r.endpoint for r in readers])
        seen = set()
        for _ in range(12):
            sock, name = greeting_via(lab.envoy.layout.db_readers["us-east-1"])
            sock.close()
            seen.add(name)
        assert seen == {"shop-east-b", "shop-east-c"}
        lab.envoy.set_db_readers("us-east-1", [])
        sock, name = greeting_via(lab.envoy.layout.db_readers["us-east-1"])
        sock.close()
        assert name == ""
