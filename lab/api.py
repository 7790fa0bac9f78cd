"""The lab's control API: JSON over HTTP on 127.0.0.1, served from a thread of the supervisor.

    GET  /status                      topology and health of every part
    GET  /events?since=EPOCH          the event log
    POST /faults/<name>               kill-pods, az-outage, az-restore, crash-writer, global-switchover,
                                      global-failover, restore-region, traffic-dial, cut-replication,
                                      restore-replication; with the route53-failover front door also
                                      dns-health-check {"region", "inverted"}, dns-failover {"primary"},
                                      alb-outage {"region", "down"}, routing-control {"region", "state": On|Off}
    POST /deployments/scale           {"region", "replicas"}

A refused fault answers 400 with ``{"error": "<one line naming the culprit and the fix>"}``; nothing changed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from aftershock.core.errors import UsageError
from aftershock.lab.envoy.health_events import read_health_events
from aftershock.lab.events import read_events
from aftershock.lab.lab import Lab


class ControlApi:
    """Serves a :class:`Lab` on a free 127.0.0.1 port until :meth:`stop`."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        handler = _handler_for(lab)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="control-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler_for(lab: Lab) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "aftershock-lab"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/status":
                self._reply(200, lab.status())
            elif url.path == "/events":
                since = float(parse_qs(url.query).get("since", ["0"])[0])
                events = [{"ts": e.ts, "kind": e.kind, **e.fields}
                          for e in read_events(lab.lab_dir / "events.jsonl", since=since)]
                self._reply(200, {"events": events})
            elif url.path == "/health-events":  # Envoy's own health-check events (ejected / added back)
                since = float(parse_qs(url.query).get("since", ["0"])[0])
                self._reply(200, {"events": list(read_health_events(lab.envoy.paths.root / "logs", since))})
            else:
                self._reply(404, {"error": f"no such endpoint GET {url.path}"})

        def do_POST(self) -> None:
            path = urlparse(self.path).path.strip("/")
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise UsageError("the request body must be a JSON object")
                result = lab.handle(path, body)
            except UsageError as exc:
                self._reply(400, {"error": str(exc)})
            except Exception as exc:
                self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})
            else:
                self._reply(200, asdict(result))

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, default=str).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
