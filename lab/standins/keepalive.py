"""HTTP/1.1 keep-alive for the stand-in servers (werkzeug's server closes every connection after one request).

Without it every AWS call to a stand-in opens a TCP connection and the server starts a thread for it, and every
client of the lab paid for that (shop pods, replicator, ledgers, load): measured on one ledger PutItem, the
server's CPU went from ~3.3 to ~2.4-2.9 ms per call with the connection kept (moto's own request handling is the
rest, and stays). werkzeug closes because Python's
``http.server`` cannot skip an unread request body before the next request line, and after each answer it reads
whatever the socket holds "to discard the rest of the body" (with a kept connection: the next request, and it
blocks). :func:`drain` reads the body whole first (the stand-in app calls it for every request); only such requests
keep their connection, and for them the discard reads nothing.
"""

from __future__ import annotations

import io
import socket
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler

__all__ = ["KeepAliveHandler", "drain"]

_DRAINED = "aftershock.body_drained"
IDLE_TIMEOUT_S = 30.0  # an idle kept connection frees its server thread after this long


def drain(environ: dict[str, Any]) -> bytes:
    """Read the request body whole and put it back for the next reader (a chunked body is left to the app, and
    its connection is closed after the answer)."""
    if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
        return b""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    body: bytes = stream.read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ[_DRAINED] = len(body) == length
    return body


class _Input:
    """The connection's input: reads nothing once the current request's body was drained (what werkzeug reads
    then would be the next request)."""

    def __init__(self, raw: Any, handler: KeepAliveHandler) -> None:
        self._raw = raw
        self._handler = handler

    def read(self, size: int = -1) -> bytes:
        if (getattr(self._handler, "environ", None) or {}).get(_DRAINED):
            return b""
        data: bytes = self._raw.read(size)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class KeepAliveHandler(MotoRequestHandler):
    """moto's request handler that keeps an HTTP/1.1 connection open once the request body was read whole."""

    timeout = IDLE_TIMEOUT_S
    wbufsize = 64 * 1024  # buffered: werkzeug flushes after each body write, so the headers and the body of an
    # answer leave in one send instead of two (the unbuffered writer was ~15 % of a stand-in's CPU under the ledgers)

    def setup(self) -> None:
        super().setup()
        # a streamed answer still goes out in several writes: without this, Nagle holds the later ones back until
        # the client's delayed ACK (~40 ms per call on a kept connection)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = _Input(self.rfile, self)  # type: ignore[assignment]

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue`` (boto3's S3 uploads): the interim answer must leave now, not with the final one
        (the client waits for it before sending the body)."""
        answered = bool(super().handle_expect_100())
        self.wfile.flush()
        return answered

    def handle_one_request(self) -> None:
        self.environ = {}  # an error answer before the app ran (bad request line) closes, as werkzeug does
        super().handle_one_request()

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # an idle kept connection ending is no error
            super().log_error(format, *args)

    def send_header(self, keyword: str, value: str) -> None:
        environ = getattr(self, "environ", None) or {}
        if (keyword.lower(), value.lower()) == ("connection", "close") and environ.get(_DRAINED) \
                and not self.close_connection:
            return  # werkzeug's unconditional close: the body is read, the next request line comes next
        super().send_header(keyword, value)
