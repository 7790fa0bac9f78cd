"""A small fake of Route 53 ARC's cluster API (``route53-recovery-cluster``; moto has none): five regional
endpoints, each a real HTTP server on 127.0.0.1 speaking the service's JSON 1.0 protocol, sharing one set of
routing control states, so the driver's own boto3 clients talk to it unchanged (``endpoint_url``).

An endpoint can be ``down`` (its server closed: connection refused) or ``unavailable`` (it answers
``EndpointTemporarilyUnavailableException``, as ARC does). An optional safety rule keeps at least one control On
unless the request overrides it (``ConflictException`` otherwise), like an ARC assertion rule.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2")  # ARC's five
PANEL = f"arn:aws:route53-recovery-control::{ACCOUNT}:controlpanel/0123456789abcdef"
RULE = f"{PANEL}/safetyrule/min-one-on"


def control_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:route53-recovery-control::{account}:controlpanel/0123456789abcdef/routingcontrol/{name}"


@dataclass
class _Endpoint:
    region: str
    server: ThreadingHTTPServer
    mode: str = "up"  # up | unavailable | down


@dataclass
class FakeArcCluster:
    """The cluster: routing control states and five endpoints; ``requests`` lists (region, operation, body)."""

    states: dict[str, str]
    safety_rule: bool = False
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    endpoints: dict[str, _Endpoint] = field(default_factory=dict)

    def start(self) -> FakeArcCluster:
        for region in REGIONS:
            server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(region))
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
            self.endpoints[region] = _Endpoint(region, server)
        return self

    def url(self, region: str) -> str:
        return f"http://127.0.0.1:{self.endpoints[region].server.server_address[1]}/v1"

    def described(self) -> list[dict[str, str]]:
        """``front_door.dns.cluster_endpoints``, in ARC's order."""
        return [{"region": r, "url": self.url(r)} for r in REGIONS]

    def set_mode(self, region: str, mode: str) -> None:
        endpoint = self.endpoints[region]
        endpoint.mode = mode
        if mode == "down":
            endpoint.server.shutdown()
            endpoint.server.server_close()  # the port refuses connections from now on

    def stop(self) -> None:
        for endpoint in self.endpoints.values():
            if endpoint.mode != "down":
                endpoint.server.shutdown()
                endpoint.server.server_close()

    def _answer(self, region: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append((region, operation, body))
            if self.endpoints[region].mode == "unavailable":
                return 503, {"__type": "EndpointTemporarilyUnavailableException", "message": f"{region} is down"}
            arn = body.get("RoutingControlArn", "")
            if arn not in self.states:
                return 404, {"__type": "ResourceNotFoundException", "message": f"{arn} not found",
                             "resourceId": arn, "resourceType": "RoutingControl"}
            if operation == "GetRoutingControlState":
                return 200, {"RoutingControlArn": arn, "RoutingControlState": self.states[arn],
                             "RoutingControlName": arn.rsplit("/", 1)[1]}
            wanted = {**self.states, arn: body["RoutingControlState"]}
            if self.safety_rule and "On" not in wanted.values() and RULE not in body.get("SafetyRulesToOverride", []):
                return 409, {"__type": "ConflictException", "message": f"safety rule {RULE} requires one On",
                             "resourceId": arn, "resourceType": "RoutingControl"}
            self.states = wanted
            return 200, {}

    def _handler(self, region: str) -> type[BaseHTTPRequestHandler]:
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                operation = str(self.headers.get("X-Amz-Target", "")).split(".")[-1]
                status, answer = cluster._answer(region, operation, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        return Handler


__all__ = ["ACCOUNT", "PANEL", "REGIONS", "RULE", "FakeArcCluster", "control_arn"]
