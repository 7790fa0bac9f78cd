"""Locust plugin: every request lands in a 100 ms timeline (imported only inside the Locust process).

Each request is bucketed by its START time (epoch ms) into ``bucket_ms`` buckets per request name, with
ok/fail counts, a log-spaced latency histogram, max latency, first/last ok and fail start times and error
kinds (cost ~1 us per request). A success slower than ``--timeline-slow-ms`` (default 1000) is also counted as
slow, with the start times of the first and last slow one: outages and the RTO count it as bad. Who writes
what:

* local (single process): a greenlet writes the touched buckets every 0.5 s to
  ``<timeline-dir>/timeline.jsonl``; the rest is written when Locust quits.
* worker: the touched buckets ride on every stats report (``events.report_to_master``, every 0.5 s:
  this plugin lowers ``locust.runners.WORKER_REPORT_INTERVAL``); a worker that quits on its own
  (Ctrl-C) sends what is left as an ``aftershock_timeline`` message.
* master: appends each worker's buckets as they arrive (``events.worker_report``), flushing every write,
  so a live reader lags < 1 s. A bucket arrives in pieces (several workers, several reports); readers merge.

Every process that sends requests also samples its own event-loop lag (:mod:`~aftershock.loadtests.looplag`)
and writes the worst lag per bucket with its buckets (``"kind": "lag"`` lines).

Without ``--timeline-dir`` the plugin records nothing (used to measure its overhead).
The file format and the analysis live in :mod:`aftershock.core.timeline` (no Locust there).
"""

from __future__ import annotations

import bisect
import errno
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from geventhttpclient.response import HTTPConnectionClosed
from locust.env import Environment
from locust.event import Events
from locust.exception import CatchResponseError
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from aftershock.core.timeline.model import HIST_EDGES_MS, Bucket, LatencyHistogram
from aftershock.core.timeline.store import (
    TIMELINE_FILE,
    TimelineFormatError,
    TimelineWriter,
    decode_bucket,
    encode_bucket,
    encode_lag,
    encode_lines,
)
from aftershock.loadtests.clocks import SENT_KEY, WorkerClocks
from aftershock.loadtests.looplag import SAMPLE_MS, LoopLagSampler

REPORT_INTERVAL_S = 0.5
MESSAGE_TYPE = "aftershock_timeline"
REPORT_KEY = "aftershock_timeline"

logger = logging.getLogger("aftershock.core.timeline")

_INF = float("inf")


def classify_error(exc: BaseException | str | None) -> str:
    """A short, stable error kind: ``http 503``, ``timeout``, ``connection refused``, ``bad body``, ..."""
    if exc is None:
        return "error"
    if isinstance(exc, str):
        text = exc
    elif isinstance(exc, CatchResponseError):
        text = str(exc)
    else:
        code = getattr(exc, "code", None)  # LocustBadStatusCode
        if isinstance(code, int):
            return f"http {code}"
        if isinstance(exc, ConnectionRefusedError):
            return "connection refused"
        if isinstance(exc, (TimeoutError, gevent.Timeout)):
            return "timeout"
        if isinstance(exc, ConnectionResetError):
            return "connection reset"
        if isinstance(exc, (HTTPConnectionClosed, BrokenPipeError, ConnectionAbortedError)):
            return "connection closed"
        if isinstance(exc, socket.gaierror):
            return "dns"
        if isinstance(exc, OSError) and exc.errno:
            return errno.errorcode.get(exc.errno, "oserror").lower()
        return type(exc).__name__
    kind = text.split(":", 1)[0].strip()
    return kind[:60] or "error"


class _Acc:
    """Mutable accumulator of one bucket piece (hot path: plain attributes, no None checks)."""

    __slots__ = ("errors", "fail", "ff", "fo", "fs", "hist", "lf", "lo", "ls", "max", "ok", "slow")

    def __init__(self) -> None:
        self.ok = 0
        self.fail = 0
        self.hist: dict[int, int] = {}
        self.max = 0.0
        self.fo = _INF
        self.lo = -_INF
        self.ff = _INF
        self.lf = -_INF
        self.slow = 0
        self.fs = _INF
        self.ls = -_INF
        self.errors: dict[str, int] = {}


def _opt(value: float) -> float | None:
    return None if value in (_INF, -_INF) else value


class TimelineRecorder:
    """Accumulates requests into bucket pieces until :meth:`drain` hands them over."""

    def __init__(self, bucket_ms: int = 100, slow_ms: float = 1000.0) -> None:
        if bucket_ms <= 0:
            raise ValueError(f"bucket_ms={bucket_ms} must be positive")
        if not slow_ms > 0:
            raise ValueError(f"slow_ms={slow_ms} must be positive")
        self.bucket_ms = bucket_ms
        self.slow_ms = slow_ms
        self.pending: dict[tuple[int, str], _Acc] = {}
        self.recorded = 0

    def on_request(
        self,
        request_type: str = "",
        name: str = "",
        response_time: float | None = None,
        response_length: int = 0,
        exception: BaseException | None = None,
        start_time: float | None = None,
        **_kwargs: Any,
    ) -> None:
        """``events.request`` listener."""
        latency = response_time or 0.0
        at_ms = start_time * 1000.0 if start_time is not None else time.time() * 1000.0 - latency
        key = (int(at_ms // self.bucket_ms), name)
        acc = self.pending.get(key)
        if acc is None:
            acc = self.pending[key] = _Acc()
        index = bisect.bisect_left(HIST_EDGES_MS, latency)
        hist = acc.hist
        hist[index] = hist.get(index, 0) + 1
        if latency > acc.max:
            acc.max = latency
        if exception is None:
            acc.ok += 1
            if latency > self.slow_ms:  # a slow success: counted in ok, timed apart from the good ones
                acc.slow += 1
                if at_ms < acc.fs:
                    acc.fs = at_ms
                if at_ms > acc.ls:
                    acc.ls = at_ms
            else:
                if at_ms < acc.fo:
                    acc.fo = at_ms
                if at_ms > acc.lo:
                    acc.lo = at_ms
        else:
            acc.fail += 1
            if at_ms < acc.ff:
                acc.ff = at_ms
            if at_ms > acc.lf:
                acc.lf = at_ms
            kind = classify_error(exception)
            acc.errors[kind] = acc.errors.get(kind, 0) + 1
        self.recorded += 1

    def drain(self) -> list[Bucket]:
        """The pieces accumulated since the previous drain (and forget them)."""
        pending, self.pending = self.pending, {}
        size = self.bucket_ms
        return [
            Bucket(
                start_ms=index * size,
                bucket_ms=size,
                name=name,
                ok=acc.ok,
                fail=acc.fail,
                hist=LatencyHistogram.from_mapping(acc.hist),
                max_ms=acc.max,
                first_ok_ms=_opt(acc.fo),
                last_ok_ms=_opt(acc.lo),
                first_fail_ms=_opt(acc.ff),
                last_fail_ms=_opt(acc.lf),
                errors=tuple(sorted(acc.errors.items())),
                slow=acc.slow,
                first_slow_ms=_opt(acc.fs),
                last_slow_ms=_opt(acc.ls),
            )
            for (index, name), acc in sorted(pending.items())
        ]


def _slow_ms(options: Any) -> float:
    return float(getattr(options, "timeline_slow_ms", 1000.0) or 1000.0)


def _source() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class TimelinePlugin:
    """Wires a :class:`TimelineRecorder` and a :class:`TimelineWriter` into one Locust process."""

    def __init__(self, events: Events) -> None:
        self.events = events
        self.recorder: TimelineRecorder | None = None
        self.writer: TimelineWriter | None = None
        self.sampler: LoopLagSampler | None = None
        self._flusher: gevent.Greenlet | None = None
        self._source = _source()
        self.clocks = WorkerClocks()  # the master's estimate of each worker's clock offset
        events.init.add_listener(self._on_init)

    # -- setup per role -------------------------------------------------------------------------------
    def _on_init(self, environment: Environment, **_kw: Any) -> None:
        runner = environment.runner
        options = environment.parsed_options
        if isinstance(runner, WorkerRunner):
            self.events.test_start.add_listener(self._on_worker_test_start)
            self.events.report_to_master.add_listener(self._on_report_to_master)
            self.events.quitting.add_listener(self._on_worker_quitting)
            return
        folder = getattr(options, "timeline_dir", "") or ""
        if not folder:
            logger.info("no --timeline-dir: the timeline is off")
            return
        bucket_ms = int(getattr(options, "timeline_bucket_ms", 100))
        slow_ms = _slow_ms(options)
        role = "master" if isinstance(runner, MasterRunner) else "local"
        self.writer = TimelineWriter(Path(folder) / TIMELINE_FILE, bucket_ms=bucket_ms, writer=role, slow_ms=slow_ms,
                                     lag_sample_ms=SAMPLE_MS)
        self.writer.write([])  # creates the file and its meta line now, so readers can wait for it
        if isinstance(runner, MasterRunner):
            self.events.worker_report.add_listener(self._on_worker_report)
            runner.register_message(MESSAGE_TYPE, self._on_worker_message)
        elif isinstance(runner, LocalRunner):
            self.recorder = TimelineRecorder(bucket_ms, slow_ms)
            self.events.request.add_listener(self.recorder.on_request)
            self._start_sampler(bucket_ms)
            self._flusher = gevent.spawn(self._flush_loop)
            self.events.quitting.add_listener(self._flush_local)
        self.events.quit.add_listener(self._on_quit)

    # -- local ---------------------------------------------------------------------------------------
    def _flush_loop(self) -> None:
        while True:
            gevent.sleep(REPORT_INTERVAL_S)
            self._flush_local()

    def _start_sampler(self, bucket_ms: int) -> None:
        self.sampler = LoopLagSampler(bucket_ms)
        self.sampler.start()

    def _lag_records(self) -> list[dict[str, Any]]:
        return [encode_lag(lag, source=self._source) for lag in self.sampler.drain()] if self.sampler else []

    def _flush_local(self, **_kw: Any) -> None:
        if self.recorder is not None and self.writer is not None:
            self.writer.write(self.recorder.drain(), source=self._source)
            self.writer.write_records(self._lag_records())

    def _on_quit(self, **_kw: Any) -> None:
        if self._flusher is not None:
            self._flusher.kill(block=False)
            self._flusher = None
        if self.sampler is not None:
            self.sampler.stop()
        self._flush_local()
        if self.writer is not None:
            self.writer.close()

    # -- worker --------------------------------------------------------------------------------------
    def _on_worker_test_start(self, environment: Environment, **_kw: Any) -> None:
        options = environment.parsed_options  # the master's custom options arrive with the spawn message
        if self.recorder is not None or not getattr(options, "timeline_dir", ""):
            return
        self.recorder = TimelineRecorder(int(getattr(options, "timeline_bucket_ms", 100)), _slow_ms(options))
        self.events.request.add_listener(self.recorder.on_request)
        self._start_sampler(self.recorder.bucket_ms)

    def _encoded(self) -> str:
        """The buckets since the last report as JSON lines: the master appends them as they are."""
        if self.recorder is None:
            return ""
        buckets = [encode_bucket(b, source=self._source) for b in self.recorder.drain()]
        return encode_lines([*buckets, *self._lag_records()])

    def _on_report_to_master(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        data[SENT_KEY] = time.time()  # the master estimates our clock offset from these
        records = self._encoded()
        if records:
            data[REPORT_KEY] = records

    def _on_worker_quitting(self, environment: Environment, **_kw: Any) -> None:
        records = self._encoded()
        runner = environment.runner
        if records and isinstance(runner, WorkerRunner):
            try:
                runner.send_message(MESSAGE_TYPE, records)  # type: ignore[arg-type]  # any msgpack-able data
            except Exception:  # the master may be gone already: say what is lost
                logger.exception("could not send the last %d timeline buckets to the master", records.count("\n"))

    # -- master --------------------------------------------------------------------------------------
    def _write_records(self, records: object, client_id: str) -> None:
        if not records or self.writer is None:
            return
        if isinstance(records, str):  # JSON lines from a worker of this version: appended without decoding
            if records.endswith("\n") and all(line.startswith("{") for line in records.splitlines()):
                self.writer.write_lines(records)
            else:
                logger.error("bad timeline data from worker %s, %d lines dropped", client_id, records.count("\n"))
            return
        if not isinstance(records, list):
            return
        try:
            buckets = [decode_bucket(r) for r in records]
        except TimelineFormatError as exc:
            logger.error("bad timeline data from worker %s, %d buckets dropped: %s", client_id, len(records), exc)
            return
        sources = [r.get("source") for r in records]
        self.writer.write_records(encode_bucket(b, source=s) for b, s in zip(buckets, sources, strict=True))

    def _on_worker_report(self, client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        self.clocks.observe(client_id, data.pop(SENT_KEY, None), time.time())
        self._write_records(data.pop(REPORT_KEY, None), client_id)

    def _on_worker_message(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        self._write_records(msg.data, msg.node_id)


def install(events: Events, *, report_interval_s: float = REPORT_INTERVAL_S) -> TimelinePlugin:
    """Attach the timeline to this Locust process and make workers report every ``report_interval_s``."""
    if report_interval_s < locust.runners.WORKER_REPORT_INTERVAL:
        locust.runners.WORKER_REPORT_INTERVAL = report_interval_s
    return TimelinePlugin(events)
