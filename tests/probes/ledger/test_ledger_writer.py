"""The canary writer against a real fleet without faults, a frozen endpoint, a dead endpoint; password secrecy."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aftershock.lab.ports import free_port
from aftershock.probes.ledger.readback import LedgerError, LedgerWriter, read_back
from aftershock.probes.ledger.record import LEDGER_FILE

if TYPE_CHECKING:
    from tests.probes.conftest import LedgerLab

pytestmark = pytest.mark.timeout(120)


def ledger_lines(run_dir: Path) -> list[dict[str, object]]:
    """The ledger parsed independently of aftershock.probes.ledger.record (the truth side of the tests)."""
    return [json.loads(x) for x in (run_dir / LEDGER_FILE).read_text().splitlines()]


def acked_seqs(run_dir: Path, run_id: str) -> set[int]:
    return {int(str(d["seq"])) for d in ledger_lines(run_dir)
            if d["kind"] == "write" and d["run_id"] == run_id and d["outcome"] == "ok"}


def test_no_fault_keeps_every_acknowledged_write(ledger_lab: LedgerLab, run_dir: Path) -> None:
    writer = LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="calm")
    writer.start()
    assert writer.running
    time.sleep(4.0)
    stats = writer.stop()
    assert not writer.running
    result = read_back(ledger_lab.endpoint_conninfo(), run_dir, "calm", timeout_s=10)
    print(f"no fault: {stats.attempted} attempts at {result.write_rate_per_s:.2f}/s, skipped {stats.skipped_slots}")

    assert stats.failure is None and stats.attempted == result.attempted >= 80
    assert result.write_rate_per_s >= 20.0 and stats.write_rate_per_s >= 20.0
    assert result.lost == 0 and result.rpo_s == 0.0 and result.lost_seqs == ()
    assert result.kept == result.acknowledged == result.attempted
    assert (result.in_doubt, result.failed_before_send, result.rejected, result.unexpected_present) == (0, 0, 0, 0)
    truth = ledger_lab.seqs_on("shop-east-a", "calm")
    assert truth == acked_seqs(run_dir, "calm")
    meta, *writes, end = ledger_lines(run_dir)
    assert meta["kind"] == "meta" and end["kind"] == "end" and end["attempted"] == stats.attempted
    assert [w["seq"] for w in writes] == [int(str(meta["seq_base"])) + i for i in range(1, len(writes) + 1)]


def test_stalled_endpoint_is_bounded_and_writes_resume(ledger_lab: LedgerLab, run_dir: Path) -> None:
    writer = LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="frozen", io_timeout_s=0.5)
    writer.start()
    time.sleep(1.0)
    ledger_lab.proxy.freeze()
    time.sleep(3.0)
    ledger_lab.proxy.freeze(False)
    time.sleep(3.0)
    stopping = time.monotonic()
    stats = writer.stop()
    assert time.monotonic() - stopping < 5.0
    result = read_back(ledger_lab.endpoint_conninfo(), run_dir, "frozen", timeout_s=10)
    print(f"frozen endpoint: {result}")

    writes = [d for d in ledger_lines(run_dir) if d["kind"] == "write"]
    kinds = [d["error"] for d in writes]
    assert "io_timeout" in kinds
    assert next(d["outcome"] for d in writes if d["error"] == "io_timeout") == "in_doubt"
    assert writes[-1]["outcome"] == "ok"  # writes resumed after the freeze
    assert stats.skipped_slots > 0  # the stalled slots were skipped, not sent in a burst
    truth = ledger_lab.seqs_on("shop-east-a", "frozen")
    doubtful = {int(str(d["seq"])) for d in writes if d["outcome"] == "in_doubt"}
    assert result.lost == 0 and result.kept == len(acked_seqs(run_dir, "frozen") & truth)
    assert result.in_doubt_present == len(doubtful & truth) and result.in_doubt == len(doubtful)


def test_dead_endpoint_fails_before_send_and_read_back_times_out(run_dir: Path) -> None:
    conninfo = f"host=127.0.0.1 port={free_port()} dbname=shop user=shop password=pw"
    with LedgerWriter(conninfo, run_dir, run_id="dead") as writer:
        time.sleep(1.0)
    with pytest.raises(LedgerError) as info:
        read_back(conninfo, run_dir, "dead", timeout_s=1.0)
    writes = [d for d in ledger_lines(run_dir) if d["kind"] == "write"]
    assert len(writes) >= 20 and {d["outcome"] for d in writes} == {"failed"}
    assert {d["error"] for d in writes} == {"connect_refused"}
    port = conninfo.split()[1].removeprefix("port=")
    assert str(info.value).startswith(f"the writer endpoint 127.0.0.1:{port} did not answer as a read-write database "
                                      "within 1s (last error: OperationalError: connection failed: ")
    assert str(info.value).endswith("): check the database, then read the ledger of run dead back again")
    assert info.value.run_id == "dead" and writer.stop().attempted == len(writes)


def test_misuse_is_refused_with_the_fix(run_dir: Path) -> None:
    with pytest.raises(LedgerError, match=r"rate_per_s 0 is out of range: use a rate in \(0, 1000\]"):
        LedgerWriter("host=x", run_dir, run_id="r", rate_per_s=0)
    with pytest.raises(LedgerError) as bad:
        LedgerWriter("host=x password=abc def", run_dir, run_id="r")
    assert str(bad.value) == ("the conninfo is not a valid libpq connection string (details withheld: they may "
                              "contain the password): pass a libpq conninfo (key=value or postgresql:// URI)")
    writer = LedgerWriter("host=x", run_dir, run_id="r")
    with pytest.raises(LedgerError, match=r"^the ledger writer of run 'r' was never started: call start\(\) first$"):
        writer.stop()


def test_password_never_leaves_memory(ledger_lab: LedgerLab, run_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-" + ledger_lab.password[::-1]
    right_writer = LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="right")
    wrong_writer = LedgerWriter(ledger_lab.endpoint_conninfo(wrong), run_dir, run_id="wrong")
    texts = [repr(right_writer), str(wrong_writer)]
    right_writer.start()
    wrong_writer.start()
    texts += [repr(right_writer), repr(wrong_writer)]
    time.sleep(1.5)
    texts += [repr(right_writer.stop()), repr(wrong_writer.stop())]
    result = read_back(ledger_lab.endpoint_conninfo(), run_dir, "right", timeout_s=10)
    texts += [repr(result), json.dumps(result.to_dict())]
    with pytest.raises(LedgerError) as info:
        read_back(ledger_lab.endpoint_conninfo(wrong), run_dir, "wrong", timeout_s=1.0)
    error: BaseException | None = info.value
    while error is not None:
        texts += [str(error), repr(error)]
        error = error.__cause__ or error.__context__
    ledger = (run_dir / LEDGER_FILE).read_text()
    texts += [ledger, caplog.text]

    assert "password authentication failed" in ledger  # the wrong password's failures were recorded
    assert result.kept == result.attempted > 0
    for text in texts:
        assert ledger_lab.password not in text
        assert wrong not in text
