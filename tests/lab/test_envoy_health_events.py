"""Envoy's health-check event log (the file sink's proto3 JSON) read as ejected / added-back transitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aftershock.lab.envoy.health_events import parse_health_event, read_health_events


def event(cluster: str, port: int, key: str, body: dict[str, object], stamp: str) -> str:
    return json.dumps({"health_checker_type": "HTTP", "cluster_name": cluster,
                       "host": {"socket_address": {"protocol": "TCP", "address": "127.0.0.1", "port_value": port}},
                       key: body, "timestamp": stamp}) + "\n"


def test_transitions_are_read_in_time_order_across_clusters(tmp_path: Path) -> None:
    (tmp_path / "health-alb-a.jsonl").write_text(
        event("alb-a", 8082, "add_healthy_event", {"first_check": False}, "2026-11-30T10:00:02.5Z")
        + event("alb-a", 8081, "add_healthy_event", {"first_check": True}, "2026-11-30T10:00:00Z"))
    (tmp_path / "health-ga.jsonl").write_text(
        event("ga", 9001, "eject_unhealthy_event", {"failure_type": "ACTIVE"}, "2026-11-30T10:00:01.123456789Z")
        + '{"cluster_name": "ga", "timestamp": "2026-11-30T10:00:0')  # a line still being written
    found = list(read_health_events(tmp_path, since=1796032800.5))
    assert [(e["event"], e["cluster"], e["host"]) for e in found] == [
        ("eject_unhealthy", "ga", "127.0.0.1:9001"), ("add_healthy", "alb-a", "127.0.0.1:8082")]
    assert found[0]["ts"] == pytest.approx(1796032801.123456, abs=1e-6)


def test_lines_that_are_not_events_are_left_out() -> None:
    assert parse_health_event("not json") is None
    assert parse_health_event(json.dumps({"cluster_name": "ga", "timestamp": "2026-11-30T10:00:00Z"})) is None
    assert parse_health_event(json.dumps({"eject_unhealthy_event": {}})) is None
