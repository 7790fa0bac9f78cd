"""Access-log parsing, and the real front door's log as ground truth of what clients saw."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from aftershock.core.errors import LabError
from aftershock.lab.envoy import AccessLogFollower, read_access_log
from tests.lab.conftest_envoy import SLOW, running_lab

_LINE = {
    "start": "1732190000.123456",
    "duration_ms": 12,
    "method": "GET",
    "path": "/shop",
    "status": 200,
    "flags": "-",
    "details": "via_upstream",
    "upstream_cluster": "ga-via-us-east-1",
    "upstream_host": "127.0.0.1:4000",
    "pod": "pod-a",
    "region": "us-east-1",
    "az": "us-east-1a",
    "request_id": "r1",
}


def _line(**changes: object) -> str:
    return json.dumps({**_LINE, **changes}) + "\n"


def test_parser_reads_records_and_stops_at_a_partial_last_line(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    no_response = _line(start="1732190001.5", status=0, duration_ms=None, flags="UF", upstream_host=None, pod=None)
    log.write_text(_line() + no_response + _line()[:40])
    records = list(read_access_log(log))
    assert [(r.start, r.status, r.pod, r.flags) for r in records] == [
        (1732190000.123456, 200, "pod-a", "-"),
        (1732190001.5, 0, None, "UF"),
    ]
    assert records[1].duration_ms is None and records[1].upstream_host is None
    assert [r.start for r in read_access_log(log, since=1732190001.0)] == [1732190001.5]


def test_follower_yields_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    follower = AccessLogFollower(log)
    assert list(follower.new_records()) == []
    full = _line(request_id="r2")
    log.write_text(_line() + full[:30])
    assert [r.request_id for r in follower.new_records()] == ["r1"]
    log.write_text(_line() + full)
    assert [r.request_id for r in follower.new_records()] == ["r2"]


def test_a_corrupt_complete_line_names_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    log.write_text(_line() + "{not json}\n")
    with pytest.raises(LabError, match=r"a\.jsonl line 2 is not an Envoy JSON record"):
        list(read_access_log(log))


def test_front_door_log_records_what_clients_saw(tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab:
        began = time.time()
        refused = lab.get("/before-any-pod")  # no targets anywhere: the ALB answers 503
        assert refused.status_code == 503
        pod = lab.pod("pod-us-east-1a", "us-east-1a")
        lab.register("us-east-1", [pod])
        lab.wait_for(lambda: "alb-us-east-1" in lab.healthy("ga-via-us-east-1"), "GA sees us-east-1 healthy")
        served = [lab.get(f"/item/{i}") for i in range(5)]
        ended = time.time()

        def front() -> list[object]:
            return [r for r in read_access_log(lab.envoy.front_door_log()) if r.path.startswith("/item/")]

        lab.wait_for(lambda: len(front()) == 5, "5 records flushed to the front-door log", timeout=SLOW)
        records = list(read_access_log(lab.envoy.front_door_log()))
        first = records[0]
        assert (first.path, first.status, first.upstream_cluster) == ("/before-any-pod", 503, "ga-via-us-east-1")
        items = [r for r in records if r.path.startswith("/item/")]
        alb_east = f"127.0.0.1:{lab.envoy.layout.alb['us-east-1']}"
        for record, response in zip(items, served, strict=True):
            assert began <= record.start <= ended
            assert record.status == 200 and record.flags == "-"
            assert record.pod == response.headers["x-pod"] == "pod-us-east-1a"
            assert (record.region, record.az) == ("us-east-1", "us-east-1a")
            assert record.upstream_cluster == "ga-via-us-east-1" and record.upstream_host == alb_east
            assert record.duration_ms is not None and 0 <= record.duration_ms < 5000
        assert [r.start for r in items] == sorted(r.start for r in items)

        lab.wait_for(
            lambda: sum(r.path.startswith("/item/") for r in read_access_log(lab.envoy.alb_log("us-east-1"))) == 5,
            "5 records in the ALB log",
        )
        alb_items = [r for r in read_access_log(lab.envoy.alb_log("us-east-1")) if r.path.startswith("/item/")]
        assert {r.upstream_host for r in alb_items} == {pod.endpoint.address}
        assert {r.request_id for r in alb_items} == {r.request_id for r in items}  # one request, two hops
        assert not [r for r in read_access_log(lab.envoy.alb_log("us-east-1")) if r.path == "/health"]  # GA checks
