"""Bootstrap: a writer and two streaming readers from the cached template, fast, with the password kept secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aftershock.lab.db import NodeRole

if TYPE_CHECKING:
    from tests.lab.conftest import DbLab

pytestmark = pytest.mark.timeout(120)


def test_bootstrap_gives_writer_and_two_streaming_readers(db_lab: DbLab) -> None:
    status = db_lab.fleet.status()
    assert status.writer == "shop-east-a"
    roles = {n.name: n.role for n in status.nodes}
    assert roles == {"shop-east-a": NodeRole.WRITER, "shop-east-b": NodeRole.READER,
                     "shop-west-a": NodeRole.READER}
    for name in ("shop-east-b", "shop-west-a"):
        node = status.node(name)
        assert node.streaming and node.upstream == "shop-east-a" and node.timeline == 1
    topology = db_lab.recorder.topologies[-1]
    assert topology.writer is not None and topology.writer.name == "shop-east-a"
    assert [e.name for e in topology.readers_in("us-east-1")] == ["shop-east-b"]
    assert [e.name for e in topology.readers_in("us-west-2")] == ["shop-west-a"]

    db_lab.insert(range(100))
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-east-b") == 100
    assert db_lab.count("shop-west-a") == 100


def test_bootstrap_is_fast(db_lab: DbLab) -> None:
    (_, fields), = [(ts, f) for ts, kind, f in db_lab.recorder.events if kind == "db.bootstrapped"]
    print(f"bootstrap of 3 nodes: {fields['elapsed_s']:.3f}s")
    assert fields["elapsed_s"] < 5.0


def test_password_never_in_argv_logs_or_events(db_lab: DbLab) -> None:
    secret = db_lab.password.encode()
    for pid in db_lab.processes():
        assert secret not in Path(f"/proc/{pid}/cmdline").read_bytes()
    for log in (db_lab.root / "logs").iterdir():
        assert secret not in log.read_bytes()
    assert db_lab.password not in repr(db_lab.recorder.events)
    assert db_lab.password not in repr(db_lab.fleet) and db_lab.password not in db_lab.fleet.conninfo()


def test_libpq_variables_in_the_environment_do_not_break_replication(
        make_db_lab: Callable[..., DbLab], monkeypatch: pytest.MonkeyPatch) -> None:
    """A user may have PGPASSWORD/PGUSER exported: the servers must still replicate with their own credentials."""
    monkeypatch.setenv("PGPASSWORD", "not-the-lab-password")
    monkeypatch.setenv("PGUSER", "someone-else")
    db_lab = make_db_lab(monitor=False)
    db_lab.insert(range(10))
    assert db_lab.fleet.wait_replicated(timeout=10)
    assert db_lab.count("shop-west-a") == 10
