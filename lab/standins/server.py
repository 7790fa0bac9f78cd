"""The AWS stand-in server of one lab region: moto's AWS API plus a change log for replication.

    python -m aftershock.lab.standins.server --region us-east-1 --port 45123

Every AWS request goes to moto unchanged (so boto3 with ``endpoint_url`` works as against AWS). DynamoDB and S3
writes are serialised and, once answered with success, recorded as :class:`~.changes.Change` images stamped with
the write's time. Control endpoints (JSON, for the replicator on the same machine)::

    GET  /_aftershock/health                 {"region", "down", "log"}
    GET  /_aftershock/changes?after=N&wait=S  changes with seq > N (waits up to S s for one); trims seq <= N
    POST /_aftershock/apply   {"changes": [...]}  replicated writes, last writer wins per item/object
    POST /_aftershock/down    {"down": true}  the region is lost: API requests answer 503 until set back
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from aftershock.lab.standins.changes import DYNAMODB, S3, Change, Write, dynamodb_writes, s3_writes, service_of
from aftershock.lab.standins.keepalive import KeepAliveHandler, drain

StartResponse = Callable[..., Any]
_MAX_WAIT_S = 1.0


class ChangeLog:
    """The server's replicable writes, in write order, until the replicator has taken them."""

    def __init__(self) -> None:
        self._changes: list[Change] = []
        self._seq = 0
        self._cond = threading.Condition()

    def append(self, ts: float, region: str, write: Write, dest: str, image: Any) -> None:
        with self._cond:
            self._seq += 1
            self._changes.append(Change(self._seq, ts, region, write.store, write.name, dest, write.key, image))
            self._cond.notify_all()

    def after(self, seq: int, wait_s: float) -> tuple[list[Change], int]:
        """Changes with seq > ``seq`` (those at or below it are taken: dropped) and the last seq written."""
        with self._cond:
            self._changes = [c for c in self._changes if c.seq > seq]
            if not self._changes and wait_s > 0:
                self._cond.wait(wait_s)
            return list(self._changes), self._seq

    def __len__(self) -> int:
        return len(self._changes)


class StandInApp:
    """WSGI middleware around moto's app: records writes, serves the control endpoints, models region loss."""

    def __init__(self, region: str, inner: Callable[..., Iterable[bytes]]) -> None:
        from aftershock.lab.standins.backends import Backends  # imports moto's backends

        self.region = region
        self.inner = inner
        self.backends = Backends(region)
        self.log = ChangeLog()
        self.down = False
        self._write_lock = threading.Lock()
        self._stamps: dict[str, tuple[float, str]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        body = drain(environ)  # read whole first: the connection is then kept for the client's next request
        if path.startswith("/_aftershock/"):
            return self._control(path, body, environ, start_response)
        if self.down:
            return self._unavailable(start_response)
        service = service_of(environ)
        if service not in (DYNAMODB, S3):
            return self.inner(environ, start_response)
        writes = self._writes(service, environ, body)
        if not writes:
            return self.inner(environ, start_response)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.append(status)
            return start_response(status, headers, exc_info)

        with self._write_lock:
            if self.down:  # lost while this write waited: once /down answered, no write is acknowledged any more
                return self._unavailable(start_response)
            result = list(self.inner(environ, capture))
            if captured and captured[0].startswith("2"):
                self._record(time.time(), writes)
        return result

    def _unavailable(self, start_response: StartResponse) -> list[bytes]:
        return _reply(start_response, 503, {"__type": "ServiceUnavailable",
                                            "message": f"region {self.region} is unavailable (lab region loss)"})

    # -- recording -----------------------------------------------------------------------------------------
    def _writes(self, service: str, environ: dict[str, Any], body: bytes) -> list[Write]:
        try:
            if service == DYNAMODB:
                operation = str(environ["HTTP_X_AMZ_TARGET"]).rpartition(".")[2]
                return dynamodb_writes(operation, json.loads(body or b"{}"), self.backends.item_key)
            return s3_writes(str(environ["REQUEST_METHOD"]), str(environ.get("PATH_INFO", "")),
                             str(environ.get("QUERY_STRING", "")), body)
        except Exception:  # a request moto will refuse (no such table, bad JSON): nothing written
            return []

    def _record(self, ts: float, writes: list[Write]) -> None:
        for write in writes:
            if write.version_delete:
                continue
            dest = write.name
            if write.store == S3:
                found = self.backends.s3_destination(write.name, write.key, write.delete)
                if found is None:
                    continue
                dest = found
            image = None if write.delete else self.backends.image(write)
            change_key = Change(0, ts, self.region, write.store, write.name, dest, write.key, None)
            if write.store == DYNAMODB:
                self._stamps[change_key.stamp_key] = (ts, self.region)
            self.log.append(ts, self.region, write, dest, image)

    def apply(self, changes: list[Change]) -> dict[str, int]:
        """Apply replicated changes: a change older than the item's last write here is superseded (LWW)."""
        applied = superseded = failed = 0
        with self._write_lock:
            for change in changes:
                stamp = (change.ts, change.region)
                if change.store == DYNAMODB and self._stamps.get(change.stamp_key, (0.0, "")) >= stamp:
                    superseded += 1
                    continue
                try:
                    self.backends.apply(change.store, change.dest, change.key, change.image)
                except Exception as exc:  # e.g. the destination table or bucket is missing
                    logging.getLogger(__name__).warning("replicated write failed: %s", exc)
                    failed += 1
                    continue
                self._stamps[change.stamp_key] = stamp
                applied += 1
        return {"applied": applied, "superseded": superseded, "failed": failed}

    # -- control endpoints ---------------------------------------------------------------------------------
    def _control(self, path: str, raw: bytes, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        if path == "/_aftershock/health":
            return _reply(start_response, 200, {"region": self.region, "down": self.down, "log": len(self.log)})
        if path == "/_aftershock/changes":
            after = int(query.get("after", ["0"])[0])
            wait = min(_MAX_WAIT_S, float(query.get("wait", ["0"])[0]))
            changes, last = self.log.after(after, wait)
            return _reply(start_response, 200, {"changes": [c.to_json() for c in changes], "last": last})
        body = json.loads(raw or b"{}")
        if path == "/_aftershock/apply":
            return _reply(start_response, 200, self.apply([Change.from_json(c) for c in body.get("changes", [])]))
        if path == "/_aftershock/down":
            with self._write_lock:  # after a write in progress: what the replicator then drops is every lost write
                self.down = bool(body.get("down"))
            return _reply(start_response, 200, {"region": self.region, "down": self.down})
        return _reply(start_response, 404, {"error": f"no such endpoint {path}"})


def _reply(start_response: StartResponse, code: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}.get(code, "Error")
    start_response(f"{code} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    from werkzeug.serving import run_simple

    from aftershock.lab.standins.dispatch import StandInDispatcher

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = StandInApp(args.region, StandInDispatcher())
    run_simple("127.0.0.1", args.port, app, threaded=True, request_handler=KeepAliveHandler)


if __name__ == "__main__":
    main()
