"""The console's safety: a non-local bind answers 401 to every page and the event stream without its token;
control actions need the CSRF token; a local bind answers local host names only; secrets never reach a page or
the event stream."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.aftershock.gameday.gamedaykit import BEFORE_FAULT, FAULT, write_run
from tests.aftershock.serve.consolekit import ConsoleProcess

SECRET = "hunter2-console-secret"
PATHS = ("/", "/run/20261121T130000Z-az-outage", "/events/run/20261121T130000Z-az-outage", "/gameday",
         "/events/gameday", "/scorecard", "/scorecard/lab", "/no/such/page")


@pytest.fixture()
def runs(tmp_path: Path) -> Path:
    base = tmp_path / "runs"
    leaky = [(FAULT[0][0], "fault.start", {"action": "db_failover",
                                           "args": {"dsn": f"postgresql://shop:{SECRET}@127.0.0.1:5432/shop"}}),
             (FAULT[1][0], "fault.end", {"action": "db_failover", "description": f"password={SECRET} moved"})]
    write_run(base, start=time.time() - 20, seconds=20, fail_from=10, fail_until=13, markers=BEFORE_FAULT + leaky)
    return base


def _first_event(client: httpx.Client, url: str) -> str:
    with client.stream("GET", url, timeout=10) as response:
        assert response.status_code == 200
        for chunk in response.iter_text():
            if "event: panels" in chunk:
                return chunk
    raise AssertionError("no event")


def test_non_local_bind_needs_the_token_everywhere(runs: Path) -> None:
    console = ConsoleProcess("--runs", str(runs), "--bind", "0.0.0.0:0")
    try:
        port = int(console.url.rsplit(":", 1)[1].strip("/"))
        base = f"http://127.0.0.1:{port}"
        assert console.token is not None and len(console.token) >= 24
        with httpx.Client(base_url=base) as client:
            for path in PATHS:
                assert client.get(path).status_code == 401, path
                assert client.get(path, params={"token": "wrong"}).status_code == 401, path
            assert client.post("/gameday/abort", data={"csrf": "x"}).status_code == 401
            assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get("/", headers={"Authorization": f"Bearer {console.token}"}).status_code == 200
            first = client.get("/", params={"token": console.token})  # once in the URL: then a cookie
            assert first.status_code == 303 and "aftershock_token" in first.headers["set-cookie"]
            client.cookies.set("aftershock_token", console.token)
            assert client.get("/gameday").status_code == 200
            assert "event: panels" in _first_event(client, "/events/run/20261121T130000Z-az-outage")
            # control actions: POST with the CSRF token of the page, else 403
            assert client.post("/gameday/abort", data={}).status_code == 403
            assert client.post("/gameday/abort", data={"csrf": "guess"}).status_code == 403
            csrf = re.search(r"name='csrf' value='([^']+)'", client.get("/gameday").text)
            assert csrf is not None
            assert client.post("/gameday/abort", data={"csrf": csrf.group(1)},
                               headers={"Origin": "http://evil.example"}).status_code == 403
            assert client.post("/gameday/abort", data={"csrf": csrf.group(1)}).status_code == 409  # nothing runs
    finally:
        assert console.stop() == 0
    assert sum("token" in line for line in console.lines) == 2  # printed once (the line and the URL to open)


def test_local_bind_answers_local_names_only_and_shows_no_secret(runs: Path) -> None:
    console = ConsoleProcess("--runs", str(runs), env={"AFTERSHOCK_DB_PASSWORD": SECRET})
    try:
        assert console.token is None
        with httpx.Client(base_url=console.url) as client:
            assert client.get("/", headers={"Host": "evil.example"}).status_code == 421  # DNS rebinding
            page = client.get("/run/20261121T130000Z-az-outage")
            assert page.status_code == 200 and "db_failover" in page.text
            event = _first_event(client, "/events/run/20261121T130000Z-az-outage")
            assert "db_failover" in event
            for text in (page.text, event, client.get("/").text, client.get("/gameday").text):
                assert SECRET not in text
            assert "postgresql://shop:***@127.0.0.1" in page.text
            assert client.get("/run/../../etc").status_code == 404
    finally:
        assert console.stop() == 0
