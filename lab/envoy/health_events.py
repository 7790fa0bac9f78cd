"""Envoy's own health-check events (``logs/health-<cluster>.jsonl``, the file event sink): when the real proxy
ejected a host and when it added it back.

A line is Envoy's ``HealthCheckEvent`` in proto3 JSON, for example::

    {"health_checker_type": "HTTP", "host": {"socket_address": {"address": "127.0.0.1", "port_value": 8081}},
     "cluster_name": "alb-us-east-1", "eject_unhealthy_event": {"failure_type": "ACTIVE"},
     "timestamp": "2026-11-30T10:00:00.123456789Z"}

:func:`read_health_events` yields ``{"ts", "cluster", "host", "event"}`` with ``event`` one of
``eject_unhealthy``, ``add_healthy``, ``health_check_failure``, ``degraded_healthy_host``,
``no_longer_degraded_host``, ``successful_health_check`` (the ``first_check`` add of a new host is
``add_healthy_first``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

_EVENTS = ("eject_unhealthy_event", "add_healthy_event", "health_check_failure_event", "degraded_healthy_host",
           "no_longer_degraded_host", "successful_health_check_event")
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(_FRACTION.sub(r"\1", stamp).replace("Z", "+00:00")).timestamp()


def _host(record: dict[str, Any]) -> str:
    address = (record.get("host") or {}).get("socket_address") or {}
    return f"{address.get('address', '?')}:{address.get('port_value', '?')}"


def parse_health_event(line: str) -> dict[str, Any] | None:
    """One event of a line; None for a line that is not a health-check event with a timestamp."""
    try:
        record = json.loads(line)
        ts = _epoch(str(record["timestamp"]))
    except (ValueError, KeyError, TypeError):
        return None
    for key in _EVENTS:
        if key in record:
            event = key.removesuffix("_event")
            if event == "add_healthy" and (record[key] or {}).get("first_check"):
                event = "add_healthy_first"
            return {"ts": ts, "cluster": str(record.get("cluster_name") or ""), "host": _host(record),
                    "event": event}
    return None


def read_health_events(logs_dir: Path, since: float = 0.0) -> Iterator[dict[str, Any]]:
    """The events of every ``health-*.jsonl`` in ``logs_dir`` at or after ``since``, oldest first (a line still
    being written is left out)."""
    found = []
    for path in sorted(logs_dir.glob("health-*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    break
                event = parse_health_event(line)
                if event is not None and event["ts"] >= since:
                    found.append(event)
    yield from sorted(found, key=lambda e: e["ts"])


__all__ = ["parse_health_event", "read_health_events"]
