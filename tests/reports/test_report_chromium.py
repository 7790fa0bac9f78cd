"""report.html opened from disk in headless Chromium (Debian's ``chromium`` package): verdict and charts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aftershock.reports.charts import CHART_IDS
from aftershock.reports.write import write_reports
from tests.reports.reportkit import MakeRun

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="/usr/bin/chromium is not installed (apt-get install -y chromium)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def test_rendered_dom_shows_verdict_and_charts(run_factory: MakeRun, tmp_path: Path) -> None:
    paths = write_reports(run_factory(rto_s=14.0), record_history=False)
    shot = tmp_path / "report.png"
    dom = _chromium(tmp_path, "--virtual-time-budget=2000", "--dump-dom", paths.html.as_uri()).stdout
    assert '<span class="word">FAILED</span>' in dom
    assert "FAILED: 1 of 2 objectives met" in dom
    for chart_id in CHART_IDS:
        assert f'data-chart="{chart_id}"' in dom
    assert dom.count("<polyline") >= 8
    _chromium(tmp_path, "--window-size=940,1400", f"--screenshot={shot}", paths.html.as_uri())
    assert shot.stat().st_size > 20_000
