"""Helpers for the console tests: the console as a real subprocess, and a real headless Chromium driven by
Selenium through Debian's chromium-driver.

A missing browser FAILS the test (CI installs chromium and chromium-driver); only an explicit opt-out,
``AFTERSHOCK_SKIP_BROWSER=1`` (never set in CI), turns it into a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# per user: a folder another user's test run created in /tmp is not writable
SCREENSHOTS = Path(os.environ.get("AFTERSHOCK_SCREENSHOTS", f"/tmp/aftershock-console-screenshots-{os.getuid()}"))
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1400")


def need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: apt-get install -y chromium chromium-driver"
    if os.environ.get("AFTERSHOCK_SKIP_BROWSER") == "1":
        pytest.skip(message)
    pytest.fail(message + " (or set AFTERSHOCK_SKIP_BROWSER=1 to skip the browser tests locally)")


@contextmanager
def browser(profile: Path) -> Iterator[Any]:
    """A headless Chromium (fresh profile) under Selenium; quit on exit."""
    need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(20)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class ConsoleProcess:
    """``aftershock serve`` in a subprocess; :attr:`url` once it printed its address."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "aftershock", "serve", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("aftershock console: ") and not args_need_token(args):
                break
            if line.startswith("open: "):
                break
        found = re.search(r"http://\S+/", "".join(self.lines))
        if found is None:
            self.stop()
            raise AssertionError(f"the console did not start: {''.join(self.lines)}")
        self.url = found.group(0)
        token = re.search(r"^token \(shown once; every request needs it\): (\S+)$", "".join(self.lines), re.M)
        self.token = token.group(1) if token else None

    def stop(self) -> int:
        """Ctrl-C (the console aborts a running step and rolls it back), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return self.proc.returncode


def args_need_token(args: tuple[str, ...]) -> bool:
    bind = args[args.index("--bind") + 1] if "--bind" in args else "127.0.0.1:0"
    return not bind.startswith(("127.", "localhost", "[::1]"))


def wait_until(check: Callable[[], Any], timeout: float, *, every: float = 0.05, what: str = "") -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (StaleElementReferenceException, NoSuchElementException):  # a live update replaced it: look again
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s: {what}")


def click(driver: Any, element_id: str, timeout: float) -> None:
    """Click the element once it is shown (the event stream may replace it in between: look again then)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def attempt() -> bool:
        try:
            found = driver.find_elements("id", element_id)
            if found:
                found[0].click()
                return True
        except StaleElementReferenceException:
            pass
        except WebDriverException as exc:  # Chromium's words for the same race, between the find and the click
            if "does not belong to the document" not in str(exc):
                raise
        return False
    wait_until(attempt, timeout, what=f"#{element_id} to click")


def screenshot(driver: Any, name: str) -> Path:
    """Save a screenshot of the whole page under :data:`SCREENSHOTS`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 3000)))
    driver.save_screenshot(str(path))
    return path
