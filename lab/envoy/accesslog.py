"""Reader of the JSON-lines access logs Envoy writes (format: ``config.ACCESS_LOG_FORMAT``).

The front door's log is the lab's independent ground truth of what clients saw. Envoy flushes it every
100 ms (``--file-flush-interval-msec``), so a reader may meet a last line still being written: it stops there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aftershock.core.errors import LabError
from aftershock.lab.envoy.models import AccessRecord


def read_access_log(path: Path, since: float = 0.0) -> Iterator[AccessRecord]:
    """Yield the records of ``path`` whose request started at or after ``since`` (epoch seconds), in file order."""
    follower = AccessLogFollower(path)
    yield from (record for record in follower.new_records() if record.start >= since)


class AccessLogFollower:
    """Reads an access log incrementally: each call yields only the complete lines added since the last one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._line_no = 0

    def new_records(self) -> Iterator[AccessRecord]:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            fh.seek(self._offset)
            for raw in fh:
                if not raw.endswith(b"\n"):
                    return  # a line still being written: read it next time
                self._offset += len(raw)
                self._line_no += 1
                if raw.strip():
                    yield _record(raw, self.path, self._line_no)


def _record(raw: bytes, path: Path, line_no: int) -> AccessRecord:
    try:
        fields: dict[str, Any] = json.loads(raw)
        return AccessRecord(
            start=float(fields["start"]),
            duration_ms=_int_or_none(fields.get("duration_ms")),
            method=_text(fields.get("method")) or "",
            path=_text(fields.get("path")) or "",
            status=_int_or_none(fields.get("status")) or 0,
            flags=_text(fields.get("flags")) or "-",
            details=_text(fields.get("details")),
            upstream_cluster=_text(fields.get("upstream_cluster")),
            upstream_host=_text(fields.get("upstream_host")),
            pod=_text(fields.get("pod")),
            region=_text(fields.get("region")),
            az=_text(fields.get("az")),
            request_id=_text(fields.get("request_id")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LabError(f"access log {path} line {line_no} is not an Envoy JSON record ({exc}): {raw[:120]!r}") from exc


def _text(value: object) -> str | None:
    """Envoy writes a missing value as null (or "-" in older formats)."""
    if value is None or value == "-":
        return None
    return str(value)


def _int_or_none(value: object) -> int | None:
    text = _text(value)
    return None if text is None else int(text)
