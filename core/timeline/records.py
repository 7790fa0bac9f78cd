"""Timeline records: one JSON object per line, encoded and decoded (the format is described in
:mod:`~aftershock.core.timeline.store`). Workers encode here, the master appends lines as they are, readers parse.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from aftershock.core.errors import FormatError
from aftershock.core.timeline.model import HIST_OVERFLOW_BIN, Bucket, LatencyHistogram, LoopLag


class TimelineFormatError(FormatError, ValueError):
    """A line is not a valid timeline record (also a ``ValueError``, as a parse error is)."""


def _ts(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def encode_bucket(bucket: Bucket, *, source: str | None = None) -> dict[str, Any]:
    """The JSON-ready record of one bucket piece (also what workers send to the master)."""
    record: dict[str, Any] = {
        "kind": "bucket",
        "start_ms": bucket.start_ms,
        "bucket_ms": bucket.bucket_ms,
        "name": bucket.name,
        "ok": bucket.ok,
        "fail": bucket.fail,
        "hist": [list(pair) for pair in bucket.hist.counts],
        "max_ms": round(bucket.max_ms, 3),
        "first_ok_ms": _ts(bucket.first_ok_ms),
        "last_ok_ms": _ts(bucket.last_ok_ms),
        "first_fail_ms": _ts(bucket.first_fail_ms),
        "last_fail_ms": _ts(bucket.last_fail_ms),
        "errors": dict(bucket.errors),
    }
    if bucket.slow:
        record.update(slow=bucket.slow, first_slow_ms=_ts(bucket.first_slow_ms), last_slow_ms=_ts(bucket.last_slow_ms))
    if source is not None:
        record["source"] = source
    return record


def _opt_float(record: Mapping[str, Any], key: str) -> float | None:
    value = record.get(key)
    return None if value is None else float(value)


def decode_bucket(record: Mapping[str, Any]) -> Bucket:
    """The bucket of one ``"kind": "bucket"`` record; :class:`TimelineFormatError` when malformed."""
    try:
        hist = LatencyHistogram.from_mapping({int(i): int(c) for i, c in record.get("hist", ())})
        if any(i < 0 or i > HIST_OVERFLOW_BIN for i, _ in hist.counts):
            raise ValueError("histogram bin out of range")
        if isinstance(record.get("bucket_ms"), bool) or int(record["bucket_ms"]) <= 0:
            raise ValueError(f"bucket_ms {record['bucket_ms']!r} is not a positive number of milliseconds")
        errors = record.get("errors") or {}
        return Bucket(
            start_ms=int(record["start_ms"]),
            bucket_ms=int(record["bucket_ms"]),
            name=str(record["name"]),
            ok=int(record.get("ok", 0)),
            fail=int(record.get("fail", 0)),
            hist=hist,
            max_ms=float(record.get("max_ms", 0.0)),
            first_ok_ms=_opt_float(record, "first_ok_ms"),
            last_ok_ms=_opt_float(record, "last_ok_ms"),
            first_fail_ms=_opt_float(record, "first_fail_ms"),
            last_fail_ms=_opt_float(record, "last_fail_ms"),
            errors=tuple(sorted((str(k), int(v)) for k, v in errors.items() if v)),
            slow=int(record.get("slow", 0)),
            first_slow_ms=_opt_float(record, "first_slow_ms"),
            last_slow_ms=_opt_float(record, "last_slow_ms"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TimelineFormatError(f"bad bucket record ({exc.__class__.__name__}: {exc})") from exc


def encode_lag(lag: LoopLag, *, source: str | None = None) -> dict[str, Any]:
    """The JSON-ready record of one loop-lag piece."""
    record: dict[str, Any] = {"kind": "lag", "start_ms": lag.start_ms, "bucket_ms": lag.bucket_ms,
                              "max_ms": round(lag.max_ms, 3), "samples": lag.samples, "sample_ms": lag.sample_ms}
    if source is not None:
        record["source"] = source
    return record


def decode_lag(record: Mapping[str, Any]) -> LoopLag:
    """The loop lag of one ``"kind": "lag"`` record; :class:`TimelineFormatError` when malformed."""
    try:
        lag = LoopLag(int(record["start_ms"]), int(record["bucket_ms"]), float(record["max_ms"]),
                      int(record.get("samples", 1)), float(record.get("sample_ms", 10.0)))
        if lag.bucket_ms <= 0 or not lag.max_ms >= 0 or not lag.sample_ms >= 0:
            raise ValueError(f"bucket_ms, max_ms or sample_ms out of range in {dict(record)!r}")
        return lag
    except (KeyError, TypeError, ValueError) as exc:
        raise TimelineFormatError(f"bad lag record ({exc.__class__.__name__}: {exc})") from exc


def encode_lines(records: Iterable[Mapping[str, Any]]) -> str:
    """Records as JSON lines (what :meth:`TimelineWriter.write_lines` appends)."""
    return "".join(orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode() + "\n" for record in records)


def parse_lines(lines: Iterable[str]) -> Iterator[Bucket | LoopLag | None]:
    """Buckets and loop lags of the lines; None for an unreadable line."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)  # ~3x json.loads: reading dominates report rendering of long runs
            if not isinstance(record, dict):
                raise TimelineFormatError("not an object")
            kind = record.get("kind")
            if kind == "bucket":
                yield decode_bucket(record)
            elif kind == "lag":
                yield decode_lag(record)
        except (orjson.JSONDecodeError, TimelineFormatError):
            yield None


def parse_records(data: bytes) -> tuple[list[Bucket], list[LoopLag], int]:
    """The bucket and loop-lag pieces of complete lines (``data`` ends at a newline) and how many lines were
    unreadable."""
    pieces: list[Bucket] = []
    lags: list[LoopLag] = []
    skipped = 0
    for parsed in parse_lines(data.decode("utf-8", errors="replace").split("\n")):
        if parsed is None:
            skipped += 1
        elif isinstance(parsed, LoopLag):
            lags.append(parsed)
        else:
            pieces.append(parsed)
    return pieces, lags, skipped


def parse_chunk(data: bytes) -> tuple[list[Bucket], int]:
    """The bucket pieces of complete lines (``data`` ends at a newline) and how many lines were unreadable."""
    pieces, _, skipped = parse_records(data)
    return pieces, skipped


__all__ = ["TimelineFormatError", "decode_bucket", "decode_lag", "encode_bucket", "encode_lag", "encode_lines",
           "parse_chunk", "parse_lines", "parse_records"]
