"""A minimal AWS wire client for the stand-in servers (DynamoDB JSON 1.0 and S3 REST over plain HTTP).

The lab uses it where boto3 would cost start-up time (the supervisor seeding its stores, shop pods): moto
checks no signature, only the credential scope that names the service and region. Against AWS use boto3.

Example::

    wire = Wire("http://127.0.0.1:45123", "us-east-1")
    wire.dynamodb("PutItem", {"TableName": "shop-carts", "Item": {"pk": {"S": "cart#1"}}})
    wire.s3("PUT", "/shop-assets-us-east-1/logo.png", b"...")
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from aftershock.core.errors import LabError
from aftershock.lab.standins.scope import authorization


class StandinClient:
    """One region's stand-in endpoint and one keep-alive HTTP client to it (the base of the wire clients)."""

    def __init__(self, endpoint: str, region: str, *, timeout: float = 5.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()


class Wire(StandinClient):
    """DynamoDB and S3 calls; an AWS error answer raises :class:`LabError` naming the call."""

    def dynamodb(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(self.endpoint + "/", content=json.dumps(body), headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-json-1.0",
            "Authorization": authorization(self.region, "dynamodb")})
        if response.status_code >= 300:
            raise LabError(f"DynamoDB {operation} at {self.endpoint} answered {response.status_code}: "
                           f"{response.text[:200]}")
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def s3(self, method: str, path: str, body: bytes = b"", *, query: str = "",
           headers: dict[str, str] | None = None) -> httpx.Response:
        url = self.endpoint + path + (f"?{query}" if query else "")
        response = self._http.request(method, url, content=body, headers={
            "Authorization": authorization(self.region, "s3"), "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            **(headers or {})})
        if response.status_code >= 300 and not (method == "GET" and response.status_code == 404):
            raise LabError(f"S3 {method} {path} at {self.endpoint} answered {response.status_code}: "
                           f"{response.text[:200]}")
        return response
