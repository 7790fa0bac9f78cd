"""``aftershock report --pdf``: headless Chromium prints report.html to a real PDF (fails, not skips, without it
unless AFTERSHOCK_SKIP_BROWSER=1)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.aftershock.gameday.gamedaykit import BEFORE_FAULT, FAULT, write_run
from tests.aftershock.serve.consolekit import need_browser


def test_report_pdf(tmp_path: Path) -> None:
    need_browser()
    summary = {"scenario": "az-outage", "disruption": "az", "target": "lab", "status": "completed", "passed": True,
               "partial": False, "figures": {"rto_s": 3.0}, "objectives": [], "errors": []}
    run = write_run(tmp_path, start=time.time() - 30, seconds=20, fail_from=10, fail_until=13,
                    markers=BEFORE_FAULT + FAULT, summary=summary)
    result = subprocess.run([sys.executable, "-m", "aftershock", "report", str(run), "--no-history", "--pdf"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    pdf = run / "report.pdf"
    assert f"wrote {pdf}" in result.stdout.replace("\n", "")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:] and len(data) > 10_000
    assert json.loads((run / "summary.json").read_text())["passed"] is True
