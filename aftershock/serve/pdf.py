"""``aftershock report --pdf``: the HTML report printed to PDF by headless Chromium (its print stylesheet applies).

Example::

    print_pdf(Path("runs/x/report.html"), Path("runs/x/report.pdf"))
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from aftershock.core.errors import UsageError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer")
TIMEOUT_S = 120


def find_chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def print_pdf(html: Path, pdf: Path) -> Path:
    """Print ``html`` to ``pdf``; :class:`UsageError` when Chromium is missing or fails."""
    chromium = find_chromium()
    if chromium is None:
        raise UsageError("--pdf needs headless Chromium: install it (apt-get install -y chromium), or print "
                         "report.html to PDF from a browser")
    with tempfile.TemporaryDirectory(prefix="aftershock-pdf-") as profile:
        result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
                                 html.resolve().as_uri()], capture_output=True, text=True, timeout=TIMEOUT_S)
    if result.returncode != 0 or not pdf.exists():
        raise UsageError(f"chromium could not print {html} to PDF (exit {result.returncode}): run it by hand to "
                         "see why, or print report.html from a browser")
    return pdf


__all__ = ["find_chromium", "print_pdf"]
