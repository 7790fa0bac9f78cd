"""The Chaos Toolkit probes: the run found through the configuration, the conninfo through the lab's target file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aftershock.core.errors import HarnessError
from aftershock.core.plan import write_plan
from aftershock.core.runfolder import RunFolder
from aftershock.planning import resolve_plan
from aftershock.probes.ledger import activities as ledger_activities
from aftershock.probes.ledger.readback import LedgerError, LedgerWriter, read_back
from aftershock.probes.ledger.record import LEDGER_FILE, format_line

if TYPE_CHECKING:
    from tests.probes.conftest import LedgerLab
    from tests.runfixtures import LabHome

pytestmark = pytest.mark.timeout(120)


def test_ledger_result_reads_back_through_the_lab_target(ledger_lab: LedgerLab, lab_home: LabHome,
                                                         run_dir: Path) -> None:
    lab_home.write_target(lab_home.target(global_writer_endpoint=f"127.0.0.1:{ledger_lab.proxy.port}"))
    lab_home.write_secrets({"db_password": ledger_lab.password})
    run_dir.mkdir(parents=True, exist_ok=True)
    write_plan(RunFolder(run_dir), resolve_plan({}, experiment="rpo.yaml", target_ref="lab"))  # the run's plan
    configuration = {"aftershock_run_dir": str(run_dir)}
    with LedgerWriter(ledger_lab.endpoint_conninfo(), run_dir, run_id="chaos"):
        time.sleep(1.0)
        progress = ledger_activities.ledger_progress(configuration=configuration)
    result = ledger_activities.ledger_result(timeout_s=10, configuration=configuration)

    assert progress["run_id"] == "chaos" and progress["attempted"] >= 20 and progress["ok"] == progress["attempted"]
    assert progress["last_acked_at"] is not None
    assert result == read_back(ledger_lab.endpoint_conninfo(), run_dir, "chaos").to_dict()
    assert result["lost"] == 0 and result["kept"] == result["attempted"] >= progress["attempted"]
    assert ledger_lab.password not in repr(result)
    # recorded once: the summary (and a second probe) reuse it instead of reading back again
    [recorded] = [m for m in RunFolder(run_dir).records("measurements.jsonl") if m["kind"] == "rpo"]
    assert {k: v for k, v in recorded.items() if k not in ("ts", "kind")} == result
    assert ledger_activities.ledger_result(timeout_s=10, configuration=configuration) == result


def test_configuration_errors_name_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFTERSHOCK_RUN_DIR", raising=False)
    with pytest.raises(HarnessError, match=r"^no run folder: "):  # aftershock.faults.context's message
        ledger_activities.ledger_result(configuration={})
    with pytest.raises(LedgerError) as no_ledger:
        ledger_activities.ledger_progress(configuration={"aftershock_run_dir": str(tmp_path)})
    assert str(no_ledger.value) == (f"{tmp_path} has no RPO ledger: start the ledger writer "
                                    "(aftershock.probes.ledger.writer.LedgerWriter) before the fault")
    (tmp_path / LEDGER_FILE).write_text("".join(format_line({"kind": "meta", "run_id": r}) for r in "ab"))
    with pytest.raises(LedgerError) as two_runs:
        ledger_activities.ledger_progress(configuration={"aftershock_run_dir": str(tmp_path)})
    assert str(two_runs.value) == (f"the ledger in {tmp_path} holds runs a, b: set aftershock_run_id in the "
                                   "experiment configuration to pick one")
    picked = ledger_activities.ledger_progress(configuration={"aftershock_run_dir": str(tmp_path),
                                                              "aftershock_run_id": "b"})
    assert picked == {"run_id": "b", "attempted": 0, "ok": 0, "in_doubt": 0, "failed": 0, "rejected": 0,
                      "last_acked_at": None}
